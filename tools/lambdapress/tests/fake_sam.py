"""A stand-in for AWS SAM CLI's `sam`, for the bench's tests: no install, no network.

`sam --version` answers; `sam build [--cached]` reads the `template.yaml` the bench writes and
makes `.aws-sam/build/<LogicalId>/` for each function as SAM does: the CodeUri's files, then
each line of its `requirements.txt` "installed" by copying that distribution's files from the
interpreter running the tests (sources only, as pip leaves them for SAM), and a `name @ file://`
requirement by copying its `src/` packages. Every call is logged (arguments and the variables
the bench must set), and `FAKE_SAM_FAIL=1` makes `build` fail as SAM does.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCRIPT = """
import importlib.metadata as metadata
import json
import os
import re
import shutil
import sys
from pathlib import Path

arguments = sys.argv[1:]
with open(os.environ["FAKE_SAM_LOG"], "a") as log:
    seen = {k: os.environ.get(k) for k in (
        "AWS_ACCESS_KEY_ID", "AWS_EC2_METADATA_DISABLED", "SAM_CLI_TELEMETRY")}
    log.write(json.dumps({"arguments": arguments, "environment": seen, "cwd": os.getcwd()}))
    log.write("\\n")
if arguments == ["--version"]:
    print("SAM CLI, version 0.0.0-fake")
    sys.exit(0)
if arguments[:1] != ["build"]:
    sys.exit(2)
if os.environ.get("FAKE_SAM_FAIL"):
    print("Error: PythonPipBuilder:ResolveDependencies - fake failure", file=sys.stderr)
    sys.exit(1)
template = Path("template.yaml").read_text()
functions = re.findall(
    r"^  (\\w+):\\n    Type: AWS::Serverless::Function\\n    Properties:\\n      CodeUri: (\\S+)",
    template,
    re.M,
)
for name, uri in functions:
    target = Path(".aws-sam/build") / name
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(uri, target, ignore=shutil.ignore_patterns("__pycache__"))
    for line in (Path(uri) / "requirements.txt").read_text().splitlines():
        if " @ file://" in line:
            source = Path(line.split(" @ file://", 1)[1]) / "src"
            for package in source.iterdir():
                shutil.copytree(package, target / package.name)
            continue
        requirement = re.split(r"[ =<>!~;\\[]", line.strip(), maxsplit=1)[0]
        if not requirement:
            continue
        try:
            distribution = metadata.distribution(requirement)
        except metadata.PackageNotFoundError:
            continue
        for file in distribution.files or []:
            if ".." in file.parts or "__pycache__" in file.parts:
                continue
            path = Path(distribution.locate_file(file))
            if path.is_file():
                (target / file).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target / file)
print("Build Succeeded")
"""


@dataclass(frozen=True)
class FakeSam:
    """The fake's folder (put it first on PATH), its executable and its call log."""

    folder: Path
    executable: Path
    log: Path

    def calls(self) -> list[dict[str, Any]]:
        """Every call so far: `arguments`, `environment` (the variables checked), `cwd`."""
        if not self.log.is_file():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def builds(self) -> list[list[str]]:
        """The arguments of each `build` call, in order."""
        return [c["arguments"] for c in self.calls() if c["arguments"][:1] == ["build"]]


def write_fake_sam(folder: Path) -> FakeSam:
    """A `sam` executable in `folder`, run by this interpreter; set FAKE_SAM_LOG to its log."""
    folder.mkdir(parents=True, exist_ok=True)
    executable = folder / "sam"
    executable.write_text(f"#!{sys.executable}\n{SCRIPT}")
    executable.chmod(executable.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return FakeSam(folder, executable, folder / "calls.jsonl")


def environment_with(fake: FakeSam) -> dict[str, str]:
    """The variables that put `fake` first on PATH and give it its log."""
    return {
        "PATH": f"{fake.folder}{os.pathsep}{os.environ.get('PATH', '')}",
        "FAKE_SAM_LOG": str(fake.log),
    }
