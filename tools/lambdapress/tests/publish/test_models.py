"""`models add`/`upgrade` plans, their writes and the package-time gate, without a network.

The index, uv and the schema comparison are replaced through `Deps` by functions that return
what a real index would (versions, a lock, a comparison of real pydantic schemas), so every
decision is checked here; the e2e test in template/tests runs the same commands for real.
"""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path
from typing import Any

import pytest
from packaging.version import Version
from pydantic import BaseModel, SecretStr

from lambdapress.bundle.models_gate import gate_refusals, refusal_error
from lambdapress.config.answers import version_text
from lambdapress.config.workspace import load_workspace
from lambdapress.errors import ModelsError
from lambdapress.indexes.config import ResolvedIndex
from lambdapress.indexes.sources import read_models
from lambdapress.publish._compat import assess
from lambdapress.publish.models import with_first_party
from lambdapress.publish.models_gate import VersionCheck
from lambdapress.publish.models_plan import (
    Deps,
    LibraryRequest,
    apply_plan,
    plan_add,
    plan_upgrade,
)

URL = "http://127.0.0.1:9/simple/"
ROOT = f"""[tool.uv.workspace]
members = ["packages/*", "services/*"]

[tool.lambdapress.indexes.company]
upload-url = "http://127.0.0.1:9/"
index-url = "{URL}"
"""
SERVICE = """[project]
name = "payments"
version = "0.1.0"
dependencies = ["pydantic>=2.7"]

[tool.poetry]
packages = [{ include = "payments", from = "src" }]

[tool.lambdapress]
runtime = "python3.12"

[build-system]
requires = ["poetry-core>=2.0"]
build-backend = "poetry.core.masonry.api"
"""


class V1(BaseModel):
    id: str
    note: str


class V11(BaseModel):
    id: str
    note: str
    extra: str | None = None


class V2(BaseModel):
    id: str


SCHEMAS = {
    "1.0.0": {"Entity": V1.model_json_schema()},
    "1.1.0": {"Entity": V11.model_json_schema()},
    "2.0.0": {"Entity": V2.model_json_schema()},
}


def lock_text(version: str) -> str:
    return f"""version = 1
requires-python = ">=3.11"

[[package]]
name = "billing-models"
version = "{version}"
source = {{ registry = "{URL}" }}

[[package]]
name = "pydantic"
version = "2.9.0"
source = {{ registry = "https://pypi.org/simple" }}
"""


class FakeIndex:
    """What the index, uv and the schema comparison would answer, and what was asked."""

    def __init__(self, published: tuple[str, ...]) -> None:
        self.published = published
        self.locked: list[dict[Path, str]] = []
        self.checks: list[tuple[str, str]] = []

    def deps(self) -> Deps:
        def resolve(name: str | None) -> ResolvedIndex:
            if name not in (None, "company"):
                raise ModelsError(f"no index named {name!r} (configured: company)")
            return ResolvedIndex(
                name="company",
                kind="upload-api",
                upload_url="http://127.0.0.1:9/",
                index_url=URL,
                username="u",
                password=SecretStr("p"),
            )

        def versions(index: ResolvedIndex, package: str) -> tuple[Version, ...]:
            return tuple(Version(v) for v in self.published)

        def lock(ws: Any, texts: dict[Path, str], index: ResolvedIndex, up: Any) -> str:
            self.locked.append(dict(texts))
            service = next(t for p, t in texts.items() if p.parent.name == "payments")
            spec = tomllib.loads(service)["project"]["dependencies"][0].split("==")[-1]
            matching = [v for v in self.published if v.startswith(spec)]
            return lock_text(max(matching, key=Version))

        def check(index: ResolvedIndex, package: str, old: str, new: str, cache: Path) -> Any:
            self.checks.append((old, new))
            report = assess(package, old, new, SCHEMAS[old], SCHEMAS[new])
            return VersionCheck(package=package, old=old, new=new, report=report)

        return Deps(resolve=resolve, versions=versions, lock=lock, check=check)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text(ROOT)
    service = tmp_path / "services" / "payments"
    (service / "src" / "payments").mkdir(parents=True)
    (service / "pyproject.toml").write_text(SERVICE)
    return tmp_path


def files(root: Path) -> dict[str, str]:
    watched = [root / "pyproject.toml", root / "services/payments/pyproject.toml", root / "uv.lock"]
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in watched if p.exists()}


def add(project: Path, fake: FakeIndex, spec: str = "==1.0", **kwargs: Any) -> Any:
    workspace = load_workspace(project)
    request = LibraryRequest(
        service="payments", package="billing-models", specifier=spec, index="company", **kwargs
    )
    return plan_add(workspace, request, fake.deps())


def test_adding_a_published_library_names_it_in_each_file_uv_and_lambdapress_read(
    project: Path,
) -> None:
    fake = FakeIndex(("1.0.0", "1.1.0"))
    plan = add(project, fake)
    assert (plan.origin, plan.version_after, plan.accepted_after) == ("index", "1.0.0", "1.0.0")
    assert files(project) == files(project)  # planning wrote nothing
    assert not (project / "uv.lock").exists()
    apply_plan(plan)

    service = tomllib.loads((project / "services/payments/pyproject.toml").read_text())
    assert service["project"]["dependencies"][0] == "billing-models==1.0"
    assert service["tool"]["uv"]["sources"] == {"billing-models": {"index": "company"}}
    assert "poetry" not in service["tool"] or "dependencies" not in service["tool"]["poetry"]
    assert service["tool"]["lambdapress"]["accept_models"] == {"billing-models": "1.0.0"}
    root = tomllib.loads((project / "pyproject.toml").read_text())
    assert root["tool"]["uv"]["index"] == [{"name": "company", "url": URL, "explicit": True}]
    assert root["tool"]["ruff"]["lint"]["isort"]["known-first-party"] == ["billing_models"]
    assert (project / "uv.lock").read_text() == lock_text("1.0.0")

    libraries = read_models(load_workspace(project), None)
    assert [(lib.origin, lib.index, lib.accepted) for lib in libraries] == [
        ("index", "company", "1.0.0")
    ]


def test_a_path_dependency_and_its_poetry_source_are_replaced_not_left_behind(
    project: Path,
) -> None:
    pyproject = project / "services/payments/pyproject.toml"
    pyproject.write_text(
        SERVICE.replace('["pydantic>=2.7"]', '["billing-models", "pydantic>=2.7"]').replace(
            "[tool.lambdapress]",
            '[tool.poetry.dependencies]\nbilling-models = { path = "../../x", develop = true }'
            "\n\n[tool.uv.sources]\nbilling-models = { workspace = true }\n\n[tool.lambdapress]",
        )
    )
    apply_plan(add(project, FakeIndex(("1.0.0",))))
    text = pyproject.read_text()
    assert "path =" not in text and "workspace = true" not in text
    assert text.count("billing-models") == 3  # dependency, uv source, accept_models


def test_an_additive_minor_is_accepted_and_a_breaking_major_waits_for_acceptance(
    project: Path,
) -> None:
    fake = FakeIndex(("1.0.0",))
    apply_plan(add(project, fake))
    fake.published = ("1.0.0", "1.1.0")
    minor = plan_upgrade(load_workspace(project), "payments", "billing-models", fake.deps())
    assert minor.check is not None and not minor.check.breaking
    assert (minor.version_after, minor.accepted_after, minor.awaits_acceptance) == (
        "1.1.0",
        "1.1.0",
        False,
    )
    apply_plan(minor)

    fake.published = ("1.0.0", "1.1.0", "2.0.0")
    major = plan_upgrade(load_workspace(project), "payments", "billing-models", fake.deps())
    assert major.check is not None and major.check.breaking and major.check.major_crossed
    assert "Entity: field removed `note` (breaking)" in "\n".join(major.check.lines())
    assert (major.version_after, major.accepted_after, major.awaits_acceptance) == (
        "2.0.0",
        "1.1.0",
        True,
    )
    accepted = plan_upgrade(
        load_workspace(project), "payments", "billing-models", fake.deps(), accept=True
    )
    assert accepted.accepted_after == "2.0.0"
    assert fake.checks == [("1.0.0", "1.1.0"), ("1.1.0", "2.0.0"), ("1.1.0", "2.0.0")]


def test_failures_before_the_write_change_no_file(project: Path) -> None:
    fake = FakeIndex(("1.0.0",))
    apply_plan(add(project, fake))
    before = files(project)
    with pytest.raises(ModelsError, match=r"billing-models==9\.9 is not on index 'company'"):
        add(project, fake, "==9.9")
    with pytest.raises(ModelsError, match="no index named 'nope'"):
        request = LibraryRequest(
            service="payments", package="billing-models", specifier="==1.0", index="nope"
        )
        plan_add(load_workspace(project), request, fake.deps())
    fake.published = ()
    with pytest.raises(ModelsError, match="there is no package 'billing-models' on index"):
        add(project, fake)
    assert files(project) == before


def test_a_plan_is_not_written_over_a_file_that_changed_since(project: Path) -> None:
    plan = add(project, FakeIndex(("1.0.0",)))
    pyproject = project / "services/payments/pyproject.toml"
    pyproject.write_text(SERVICE + "\n# edited meanwhile\n")
    with pytest.raises(ModelsError, match="changed since the plan was made"):
        apply_plan(plan)
    assert pyproject.read_text().endswith("# edited meanwhile\n")
    assert not (project / "uv.lock").exists()


def test_the_gate_compares_only_when_the_locked_version_is_not_the_accepted_one(
    project: Path,
) -> None:
    fake = FakeIndex(("1.0.0",))
    apply_plan(add(project, fake))
    calls: list[str] = []

    def load(index: ResolvedIndex, name: str, module: str, version: str, work: Path) -> Any:
        calls.append(version)
        return SCHEMAS[version]

    def resolve(name: str) -> ResolvedIndex:
        return fake.deps().resolve(name)

    assert gate_refusals(load_workspace(project), resolve, load=load) == ()
    assert calls == []  # locked == accepted: nothing installed, nothing compared

    (project / "uv.lock").write_text(lock_text("2.0.0"))  # e.g. `uv lock --upgrade` by hand
    workspace = load_workspace(project)
    refusals = gate_refusals(workspace, resolve, load=load)
    assert calls == ["1.0.0", "2.0.0"]
    assert len(refusals) == 1
    message = str(refusal_error(workspace, refusals))
    assert "billing-models 1.0.0 -> 2.0.0: breaking" in message
    assert "Entity: field removed `note` (breaking)" in message
    assert "lambdapress models upgrade payments billing-models --accept" in message
    gate_refusals(workspace, resolve, load=load)
    assert calls == ["1.0.0", "2.0.0"]  # the verdict is cached per version pair


def test_first_party_list_is_kept_sorted_and_unique() -> None:
    text = '[tool.ruff.lint.isort]\nknown-first-party = ["zeta"]\n'
    once = with_first_party(text, "billing_models", Path("p"))
    assert with_first_party(once, "billing_models", Path("p")) == once
    assert tomllib.loads(once)["tool"]["ruff"]["lint"]["isort"]["known-first-party"] == [
        "billing_models",
        "zeta",
    ]


def test_version_names_the_template_version_of_the_project(tmp_path: Path) -> None:
    assert version_text("0.1.0", tmp_path) == (
        "lambdapress 0.1.0 (template: not a generated project)"
    )
    (tmp_path / ".copier-answers.yml").write_text(
        "_commit: v0.2.0\n_src_path: gh:x/y\nkind: project\n"
    )
    (tmp_path / "services" / "orders").mkdir(parents=True)
    (tmp_path / "services" / "orders" / ".copier-answers.yml").write_text(
        "_commit: v0.1.0\n_src_path: gh:x/y\nkind: service\n"
    )
    assert version_text("0.1.0", tmp_path / "services" / "orders") == (
        "lambdapress 0.1.0 (template v0.2.0)"
    )
