"""The README's "Secrets and parameters" block, run command by command on a copy of the example
platform (as test_readme_events does: the test environment's `lambdapress` for `nox -s` and
`uv run`, `&` lines in the background, stopped with SIGTERM at the end)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import test_readme_events
from test_readme_events import README, Background, as_here, run

from lambdapress.support.loopback import free_port

example = test_readme_events.example  # the fixtures: a copy of the example platform, and
background = test_readme_events.background  # its `&` commands, stopped at the end


def readme_commands() -> list[str]:
    """The commands of the secrets block, comments removed."""
    blocks = re.findall(r"^```[\w-]*\n(.*?)^```", README.read_text(), re.S | re.M)
    block = next(b for b in blocks if "secrets.carrier-key" in b and "printf" in b)
    return [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]


@pytest.mark.e2e
def test_the_readmes_secret_flow_runs_as_written(
    example: Path,
    background: Background,
) -> None:
    commands = [as_here(c, free_port(), free_port()) for c in readme_commands()]
    assert len(commands) == 7
    declare, package, db, refused, values, invoke, template = commands

    assert run(declare, example).returncode == 0
    built = run(package, example)
    assert built.returncode == 0, built.stderr
    db_log = background.start(db)
    background.wait_for(db_log, "Ctrl-C stops")

    missing = run(refused, example)
    assert missing.returncode == 1, missing
    assert "secret acme/local/fulfilment/carrier-key ([tool.lambdapress.secrets.carrier-key] of " \
        "service fulfilment)" in missing.stderr  # fmt: skip
    assert '"acme/local/fulfilment/carrier-key" = "<the value>"' in missing.stderr
    assert "START RequestId" not in missing.stderr  # refused before the first request

    assert run(values, example).returncode == 0
    ran = run(invoke, example)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout) == {"released": 0}, ran

    rendered = run(template, example)
    assert rendered.returncode == 0, rendered.stderr
    document = json.loads((example / "prod.json").read_text())
    resources = document["Resources"]
    variables = resources["FulfilmentReleaseShipmentsFunction"]["Properties"]["Environment"]
    assert variables["Variables"]["CARRIER_KEY_SECRET_NAME"] == "acme/prod/fulfilment/carrier-key"
    role = resources["FulfilmentReleaseShipmentsRole"]["Properties"]["Policies"][0]
    granted = [
        (s["Action"], s["Resource"]) for s in role["PolicyDocument"]["Statement"]
        if s["Action"] == ["secretsmanager:GetSecretValue"]
    ]  # fmt: skip
    assert granted == [
        (
            ["secretsmanager:GetSecretValue"],
            [
                {
                    "Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:"
                    "${AWS::AccountId}:secret:acme/prod/fulfilment/carrier-key-??????"
                }
            ],
        )
    ]
