"""What each rule of `bundle.trim` keeps out of the example's zips: the README's table.

Counted on the wheels as published (each distribution installed by uv for the function's
target, as it comes, sources and all: what a packager that zips the install ships), in bytes
of the zip (each left-out file's deflated size at level 9, as lambdapress compresses, plus its
local and central headers). A module left out would ship as bytecode under `sources =
"first-party"`, which is larger than the source it is counted as here. The functions are
planned on a scratch copy of the workspace with the benchmark's pydantic-only handler added
to the service of the first (`lambdapress.bench`); nothing is built.

`python -m lambdapress.bench.trimming [ROOT]` prints the table the README shows; a test
keeps the two equal (on the zlib of the machine that runs it: another zlib compresses the
same files to other sizes, see `bundle.archive`).
"""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import tempfile
import zlib
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from lambdapress.bench import (
    _PYDANTIC_ONLY_SOURCE,
    PYDANTIC_ONLY,
    _fresh_artifact_cache,
    _scratch_copy,
)
from lambdapress.bundle.discovery import handlers_folder
from lambdapress.bundle.pipeline import PackageOptions, plan_package
from lambdapress.bundle.plan import FunctionPlan
from lambdapress.bundle.targets import Target
from lambdapress.bundle.trim import RULES
from lambdapress.bundle.wheels import uv_binary
from lambdapress.config.workspace import load_workspace
from lambdapress.errors import BundleError

EXAMPLE_FUNCTIONS = ("orders.get_order", "customers.get_customer")
_HEADERS = 30 + 46  # a zip entry's local and central headers, each followed by its name


class RuleSaving(BaseModel):
    """One rule and the bytes it keeps out of each measured function's zip."""

    model_config = ConfigDict(frozen=True)

    name: str
    matches: str
    why: str
    saved: tuple[int, ...]


class TrimReport(BaseModel):
    """Every rule's savings, one column per function (`functions`, in order)."""

    model_config = ConfigDict(frozen=True)

    functions: tuple[str, ...]
    rules: tuple[RuleSaving, ...]

    def table(self) -> str:
        """The Markdown table of the README."""
        columns = " | ".join(f"`{name}`" for name in self.functions)
        lines = [
            f"| rule | leaves out | why nothing on Lambda loads it | {columns} |",
            "| --- | --- | --- |" + " ---: |" * len(self.functions),
        ]
        for rule in self.rules:
            saved = " | ".join(f"{n:,}" for n in rule.saved)
            lines.append(f"| {rule.name} | {rule.matches} | {rule.why} | {saved} |")
        totals = [sum(r.saved[i] for r in self.rules) for i in range(len(self.functions))]
        lines.append("| all rules | | | " + " | ".join(f"{n:,}" for n in totals) + " |")
        return "\n".join(lines) + "\n"


def measure_rules(root: Path, functions: Sequence[str] = EXAMPLE_FUNCTIONS) -> TrimReport:
    """Each rule's savings in `functions` and in the pydantic-only handler.

    Planned on a scratch copy of the workspace at `root`, whose cache's installed wheels it
    shares; the published wheels are installed into a temporary folder.
    """
    root = root.resolve()
    with _scratch_copy(root) as scratch, tempfile.TemporaryDirectory() as folder:
        alone = _add_pydantic_only(scratch, functions[0].split(".", 1)[0])
        cache = _fresh_artifact_cache(root, scratch.parent / "cache")
        plan = plan_package(scratch, PackageOptions(cache=cache, remote_cache=False))
        chosen = [plan.function(name) for name in (*functions, alone)]
        published = _Published(Path(folder))
        columns = [_savings(function, published) for function in chosen]
    rules = tuple(
        RuleSaving(
            name=rule.name,
            matches=rule.matches,
            why=rule.why,
            saved=tuple(column.get(rule.name, 0) for column in columns),
        )
        for rule in RULES
    )
    return TrimReport(functions=(*functions, alone), rules=rules)


def _add_pydantic_only(scratch: Path, service_name: str) -> str:
    service = next(s for s in load_workspace(scratch).services if s.name == service_name)
    (handlers_folder(service) / f"{PYDANTIC_ONLY}.py").write_text(_PYDANTIC_ONLY_SOURCE)
    return f"{service.name}.{PYDANTIC_ONLY}"


def _savings(function: FunctionPlan, published: _Published) -> dict[str, int]:
    """Bytes of the function's zip each rule keeps out, by rule name."""
    saved: dict[str, int] = {}
    pairs = zip(function.distributions.items(), function.distribution_folders, strict=True)
    for (name, version), cached in pairs:
        folder = published.folder(name, version, function.target)
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            arcname = path.relative_to(folder).as_posix()
            rule = function.left_out.rule_for(cached.name, arcname)
            if rule is not None:
                saved[rule.name] = saved.get(rule.name, 0) + _zipped(arcname, path.read_bytes())
    return saved


def _zipped(arcname: str, data: bytes) -> int:
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    stream = deflate.compress(data) + deflate.flush()
    return _HEADERS + 2 * len(arcname.encode()) + min(len(stream), len(data))


class _Published:
    """Distributions installed by uv as they are published, once per (name, version, target)."""

    def __init__(self, folder: Path) -> None:
        self._root = folder
        self._done: dict[tuple[str, str, str], Path] = {}

    def folder(self, name: str, version: str, target: Target) -> Path:
        key = (name, version, target.key)
        found = self._done.get(key)
        if found is not None:
            return found
        folder = self._root / target.key / f"{name}-{version}"
        result = subprocess.run(
            [
                uv_binary(),
                "pip",
                "install",
                "--quiet",
                "--no-deps",
                "--no-compile",
                "--only-binary",
                ":all:",
                "--target",
                str(folder),
                "--python-platform",
                target.uv_platform,
                "--python-version",
                target.python,
                f"{name}=={version}",
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        if result.returncode != 0:
            raise BundleError(
                f"installing {name} {version} for {target.key} to measure it failed: "
                f"{result.stderr.strip()}",
                hint="check the network (uv installs from the index), then run again",
            )
        for hidden in folder.glob(".*"):  # uv's .lock: not the wheel's
            hidden.unlink()
        _as_published_scripts(folder)
        self._done[key] = folder
        return folder


def _as_published_scripts(folder: Path) -> None:
    """Scripts back to the wheel's `#!python`, and their RECORD lines to match.

    An installer writes its interpreter's path into each script's first line (and so into the
    script's hash and size in RECORD): the table would change with where the checkout's
    environment lives. The wheel as published says `#!python`.
    """
    scripts = folder / "bin"
    if not scripts.is_dir():
        return
    changed: dict[str, bytes] = {}
    for script in sorted(p for p in scripts.iterdir() if p.is_file()):
        data = script.read_bytes()
        if data.startswith(b"#!"):
            data = b"#!python" + data[data.find(b"\n") :]
            script.write_bytes(data)
            changed[f"bin/{script.name}"] = data
    for record in folder.glob("*.dist-info/RECORD"):
        lines = []
        for line in record.read_text().splitlines():
            path = line.split(",", 1)[0]
            rewritten = changed.get(path)
            if rewritten is not None:
                digest = base64.urlsafe_b64encode(hashlib.sha256(rewritten).digest()).rstrip(b"=")
                line = f"{path},sha256={digest.decode()},{len(rewritten)}"
            lines.append(line)
        record.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":  # `python -m lambdapress.bench.trimming [ROOT]`: the README table
    print(measure_rules(Path(sys.argv[1] if len(sys.argv) > 1 else ".")).table(), end="")
