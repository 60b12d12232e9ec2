"""The README's "Deploying to a local endpoint" commands, run as written against moto's server.

Only the port (5000 in the README: any free one here) and `uv run` (this test environment's
scripts) differ from what the README shows.
"""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[4] / "README.md"
PORT = "5000"


def readme_commands() -> list[str]:
    """The commands of the README's code block that sets AWS_ENDPOINT_URL, comments removed."""
    blocks = re.findall(r"^```[\w-]*\n(.*?)^```", README.read_text(), re.S | re.M)
    block = next(b for b in blocks if "AWS_ENDPOINT_URL=" in b)
    return [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]


def free_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return str(probe.getsockname()[1])


def as_here(command: str, port: str) -> str:
    scripts = Path(sys.executable).parent
    return command.replace("uv run ", f"{scripts}/").replace(PORT, port)


@pytest.mark.e2e
def test_the_readmes_local_endpoint_commands_deploy_sync_and_destroy(shop: Path) -> None:
    commands = readme_commands()
    assert commands[0].startswith(
        "uv run python -m lambdapress.storage.moto_server -H 127.0.0.1 -p 5000"
    )
    assert [c for c in commands[1:] if "lambdapress" in c] == [
        "uv run lambdapress deploy --stage dev --yes",
        "uv run lambdapress sync --stage dev",
        "uv run lambdapress destroy --stage dev --with-bucket --yes",
    ]
    port = free_port()
    server = subprocess.Popen(
        shlex.split(as_here(commands[0], port)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", int(port)), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "moto's server did not start"
                time.sleep(0.1)
        script = "\n".join(as_here(command, port) for command in commands[1:])
        environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=shop,
            env=environment,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "shop-dev: CREATE_COMPLETE" in done.stdout
    assert "shop-dev: code up to date (nothing to sync)" in done.stdout
    assert "deleted stack shop-dev and bucket shop-artifacts-123456789012-us-east-1" in done.stdout
