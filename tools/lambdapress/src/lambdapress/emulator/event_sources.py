"""Local delivery of event sources beyond HTTP, on moto's server, through the emulator.

SEAM (issue 22, being built): the local-delivery helper replaces these bodies.
"""

from __future__ import annotations

from typing import Any

from lambdapress.model.trigger_kinds import LocalHost, LocalOptions, LocalSource


def event_source(host: LocalHost[Any], options: LocalOptions, kind: str) -> LocalSource:
    """What delivers `kind`'s triggers of `host.manifest` locally, not started yet."""
    raise NotImplementedError("issue 22: local delivery")
