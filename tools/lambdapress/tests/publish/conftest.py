"""Fixtures for publishing: a real pypiserver on 127.0.0.1, model libraries, hand-made files.

Nothing here reads the surrounding repository (these tests also run inside generated
projects, whose packages/ is empty): the example model library is written from scratch with
the same layout and models as packages/acme-models.
"""

from __future__ import annotations

import hashlib
import io
import os
import secrets
import tarfile
import textwrap
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backends.null import Keyring as NullKeyring
from pydantic import SecretStr

from lambdapress.indexes.config import ResolvedIndex
from lambdapress.publish._build import BuiltFile, BuiltPackage
from lambdapress.publish.pypiserver import IndexServer, ServerPlan, start_server
from lambdapress.support.loopback import free_port

INDEX_USER = "publisher"

ENTITY_MODELS = '''
"""The building blocks every service's models share."""

from datetime import datetime
from typing import Generic, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class Entity(BaseModel):
    """Something stored and addressed by id."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(min_length=1, max_length=64, description="Opaque identifier")
    created_at: AwareDatetime = Field(description="When it was created (UTC)")
    updated_at: AwareDatetime = Field(description="When it last changed (UTC)")
{entity_extra}
    def age_at(self, moment: datetime) -> float:
        return (moment - self.created_at).total_seconds()


ItemT = TypeVar("ItemT", bound=BaseModel)


class Page(BaseModel, Generic[ItemT]):
    """One page of a listing."""

    items: list[ItemT]
    next_cursor: str | None = None
'''


@pytest.fixture(autouse=True)
def offline_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fake AWS credentials, no metadata service, no keyring, no stray index credentials."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    for name in [n for n in os.environ if n.startswith("LAMBDAPRESS_INDEX_")]:
        monkeypatch.delenv(name)
    previous = keyring.get_keyring()
    keyring.set_keyring(NullKeyring())
    yield
    keyring.set_keyring(previous)


class RunningIndex:
    """A pypiserver started for one test, with the one account allowed to upload."""

    def __init__(self, server: IndexServer, password: str) -> None:
        self.server = server
        self.username = INDEX_USER
        self.password = password

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def index_url(self) -> str:
        return self.server.index_url

    @property
    def packages_dir(self) -> Path:
        return self.server.plan.packages_dir

    def resolved(self, *, password: str | None = None, name: str = "local") -> ResolvedIndex:
        """A ResolvedIndex for this server, with the right (or the given) password."""
        return ResolvedIndex(
            name=name,
            kind="upload-api",
            upload_url=self.url,
            index_url=self.index_url,
            username=self.username,
            password=SecretStr(password if password is not None else self.password),
            credentials_from="the test",
            fix_credentials="use the test's account",
        )

    def snapshot(self) -> dict[str, str]:
        """{filename: sha256} of every file the index holds."""
        return {
            path.name: hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(self.packages_dir.iterdir())
            if path.is_file()
        }

    def config(self, name: str = "local") -> str:
        """The root-pyproject table that points at this server."""
        return (
            f"[tool.lambdapress.indexes.{name}]\n"
            f'upload-url = "{self.url}"\nindex-url = "{self.index_url}"\n'
        )


@pytest.fixture
def index_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningIndex]:
    """pypiserver on 127.0.0.1 with upload authentication on; stopped after the test."""
    folder = tmp_path_factory.mktemp("index")
    password = secrets.token_urlsafe(16)
    plan = ServerPlan(
        port=free_port(),
        packages_dir=folder / "packages",
        htpasswd=folder / "htpasswd",
        username=INDEX_USER,
        password=SecretStr(password),
    )
    with start_server(plan) as server:
        yield RunningIndex(server, password)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def write_library(
    folder: Path,
    *,
    version: str = "1.0.0",
    entity_extra: str = "",
    dependencies: str | None = '["pydantic>=2.7,<3"]',
    extra_pyproject: str = "",
) -> Path:
    """An acme-models library like packages/acme-models; `entity_extra` adds Entity fields."""
    write(
        folder / "pyproject.toml",
        f"""
        [project]
        name = "acme-models"
        version = "{version}"
        description = "Shared pydantic models of the acme example platform."
        readme = "README.md"
        requires-python = ">=3.11"
        {"" if dependencies is None else f"dependencies = {dependencies}"}

        [tool.poetry]
        packages = [{{ include = "acme_models", from = "src" }}]
        {extra_pyproject}
        [build-system]
        requires = ["poetry-core>=2.0"]
        build-backend = "poetry.core.masonry.api"
        """,
    )
    write(folder / "README.md", "# acme-models\n\nShared models.\n")
    write(
        folder / "src/acme_models/__init__.py",
        '''
        """Shared pydantic models."""

        from acme_models.base import Entity, Page

        __all__ = ["Entity", "Page"]
        ''',
    )
    (folder / "src/acme_models/py.typed").write_text("", encoding="utf-8")
    extra = textwrap.indent(textwrap.dedent(entity_extra).strip("\n"), "    ")
    source = ENTITY_MODELS.format(entity_extra=extra + "\n" if extra else "")
    (folder / "src/acme_models/base.py").write_text(source.lstrip("\n"), encoding="utf-8")
    return folder


def write_workspace(root: Path, index_config: str = "") -> Path:
    """A uv workspace root whose pyproject configures the given indexes."""
    write(
        root / "pyproject.toml",
        '[tool.uv.workspace]\nmembers = ["packages/*", "services/*"]\n\n' + index_config,
    )
    return root


def make_dists(
    folder: Path,
    name: str = "demo-models",
    version: str = "1.0.0",
    *,
    requires: tuple[str, ...] = (),
    extra_metadata: str = "",
) -> BuiltPackage:
    """A minimal valid wheel and sdist, written by hand (no build backend, fast)."""
    folder.mkdir(parents=True, exist_ok=True)
    module = name.replace("-", "_")
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: demo\n"
    metadata += "".join(f"Requires-Dist: {r}\n" for r in requires) + extra_metadata
    dist_info = f"{module}-{version}.dist-info"
    files = {
        f"{module}/__init__.py": "VALUE = 1\n",
        f"{dist_info}/METADATA": metadata,
        f"{dist_info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    record = "".join(f"{path},,\n" for path in files) + f"{dist_info}/RECORD,,\n"
    files[f"{dist_info}/RECORD"] = record
    wheel = folder / f"{module}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in files.items():
            archive.writestr(zipfile.ZipInfo(path, (1980, 1, 1, 0, 0, 0)), text)
    sdist = folder / f"{module}-{version}.tar.gz"
    with tarfile.open(sdist, "w:gz") as archive:
        members = {"PKG-INFO": metadata, f"src/{module}/__init__.py": "VALUE = 1\n"}
        for member, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{module}-{version}/{member}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return BuiltPackage(
        name=name,
        version=version,
        wheel=_describe(wheel, "wheel"),
        sdist=_describe(sdist, "sdist"),
    )


def _describe(path: Path, kind: str) -> BuiltFile:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return BuiltFile.model_validate(
        {"path": path, "kind": kind, "sha256": digest, "size": path.stat().st_size}
    )


LibraryWriter = Callable[..., Path]
DistsMaker = Callable[..., BuiltPackage]


@pytest.fixture
def library() -> LibraryWriter:
    """`library(folder, version=..., entity_extra=...)`: write an acme-models library."""
    return write_library


@pytest.fixture
def dists(tmp_path: Path) -> DistsMaker:
    """`dists(name, version, requires=...)`: a hand-made wheel and sdist under tmp_path."""

    def make(name: str = "demo-models", version: str = "1.0.0", **kwargs: Any) -> BuiltPackage:
        folder = tmp_path / "dists" / f"{name}-{version}"
        return make_dists(folder, name, version, **kwargs)

    return make


@pytest.fixture
def repo(tmp_path: Path, index_server: RunningIndex, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A workspace with packages/acme-models 1.0.0 and a `local` index on the test server,
    whose credentials are in the environment as the configuration says."""
    root = write_workspace(tmp_path / "repo", index_server.config())
    write_library(root / "packages" / "acme-models")
    monkeypatch.setenv("LAMBDAPRESS_INDEX_LOCAL_USERNAME", index_server.username)
    monkeypatch.setenv("LAMBDAPRESS_INDEX_LOCAL_PASSWORD", index_server.password)
    return root
