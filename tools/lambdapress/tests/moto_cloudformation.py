"""moto's CloudFormation with the types every lambdapress stack has, for one test.

The models live with the tool (`lambdapress.storage.moto_server`, the local endpoint's
server); importing that module defines them for this process, and `register` applies its
patches of moto's classes until the test ends.
"""

from __future__ import annotations

import pytest

from lambdapress.storage import moto_server


def register(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make moto's CloudFormation create aliases, alarms and CodeDeploy's resources."""
    for owner, name, value in moto_server.PATCHES:
        monkeypatch.setattr(owner, name, value, raising=False)
    moto_server.refresh()
