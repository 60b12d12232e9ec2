"""Realistic sample events of each event source, as AWS sends them to a function.

SEAM (issue 22, being built): the local-delivery helper replaces these bodies.
"""

from __future__ import annotations

from typing import Any

from lambdapress.model.application import Function
from lambdapress.model.triggers import Trigger


def sample_event_for(function: Function, trigger: Trigger) -> Any:
    """The event `trigger` sends `function` (JSON-serialisable)."""
    raise NotImplementedError("issue 22: sample events")
