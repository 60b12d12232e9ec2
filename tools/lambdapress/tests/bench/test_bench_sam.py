"""The SAM baseline against a fake `sam` on PATH: SAM is never installed, nothing leaves."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
import yaml
from fake_sam import FakeSam, environment_with, write_fake_sam

from lambdapress.bench import _sam
from lambdapress.bench._workload import Workload, create_workload, set_handlers
from lambdapress.errors import ToolchainError

PINS = {"pydantic": "==2.9.0", "requests": "==2.32.0"}


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeSam:
    found = write_fake_sam(tmp_path / "bin")
    for name, value in environment_with(found).items():
        monkeypatch.setenv(name, value)
    return found


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workload:
    """The workload, with requirements as the lock would export them (no uv, no index)."""
    generated = create_workload(tmp_path / "workload", PINS, lock=False)
    library = generated.root / "packages" / "scaled-models"
    monkeypatch.setattr(
        _sam,
        "export_requirements",
        lambda _w: f"scaled-models @ {library.as_uri()}\nnot-installed-here==1.0\n",
    )
    return generated


def test_the_sam_on_path_is_used_when_asked_and_none_skips(fake: FakeSam) -> None:
    found = _sam.locate_sam("sam")

    assert isinstance(found, _sam.SamCli)
    assert found.executable == fake.executable
    assert found.version == "SAM CLI, version 0.0.0-fake"
    skipped = _sam.locate_sam("none")
    assert isinstance(skipped, _sam.SamUnavailable) and "--sam none" in skipped.reason
    missing = _sam.locate_sam("no-such-sam-here")
    assert isinstance(missing, _sam.SamUnavailable)
    assert "`no-such-sam-here` is not an executable (on PATH" in missing.reason


def test_without_uv_there_is_no_sam_and_the_reason_says_so(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # neither uv nor sam
    found = _sam.locate_sam("uv")
    assert isinstance(found, _sam.SamUnavailable)
    assert "uv is not on PATH" in found.reason


def test_the_template_has_one_function_per_handler_on_the_services_code(
    project: Workload,
) -> None:
    set_handlers(project, 3)

    template = yaml.safe_load(_sam.write_sam_project(project, 3).read_text())

    assert template["Transform"] == "AWS::Serverless-2016-10-31"
    resources = template["Resources"]
    assert sorted(resources) == ["Handler0000", "Handler0001", "Handler0002"]
    assert {r["Type"] for r in resources.values()} == {"AWS::Serverless::Function"}
    first = resources["Handler0000"]["Properties"]
    assert first == {
        "CodeUri": "services/scaled/src",
        "Handler": "scaled.handlers.handler_0000.handler",
        "Runtime": "python3.11",
        "Architectures": ["x86_64"],
    }
    requirements = (project.code_folder / "requirements.txt").read_text()
    assert requirements.startswith("scaled-models @ file://")


def test_builds_are_timed_offline_and_the_zip_is_sam_packages(
    fake: FakeSam, project: Workload, tmp_path: Path
) -> None:
    cli = _sam.locate_sam("sam")
    assert isinstance(cli, _sam.SamCli)
    set_handlers(project, 2)
    _sam.write_sam_project(project, 2)

    assert _sam.timed_build(cli, project, cached=False) > 0
    assert _sam.timed_build(cli, project, cached=True) > 0

    assert fake.builds() == [["build"], ["build", "--cached"]]
    for call in fake.calls():
        assert call["environment"] == {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_EC2_METADATA_DISABLED": "true",
            "SAM_CLI_TELEMETRY": "0",
        }
    built = project.root / ".aws-sam" / "build" / "Handler0000"
    expected = sorted(p.relative_to(built).as_posix() for p in built.rglob("*") if p.is_file())
    assert "scaled/handlers/handler_0000.py" in expected
    assert "scaled_models/__init__.py" in expected

    zipped = _sam.zip_built_function(project, 0, tmp_path / "zips" / "sam.zip")

    with zipfile.ZipFile(zipped) as archive:
        infos = archive.infolist()
        assert sorted(i.filename for i in infos) == expected
        assert {i.compress_type for i in infos} == {zipfile.ZIP_DEFLATED}
        assert {i.external_attr >> 16 for i in infos} == {0o100755}
        assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
        assert (
            archive.read("scaled/handlers/handler_0000.py")
            == (built / "scaled" / "handlers" / "handler_0000.py").read_bytes()
        )

    _sam.clean(project)
    assert not (project.root / ".aws-sam").exists()
    with pytest.raises(ToolchainError, match=r"left no \.aws-sam/build/Handler0000"):
        _sam.zip_built_function(project, 0, tmp_path / "zips" / "again.zip")


def test_a_failed_build_is_an_error_with_what_sam_said(
    fake: FakeSam, project: Workload, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = _sam.locate_sam("sam")
    assert isinstance(cli, _sam.SamCli)
    set_handlers(project, 1)
    _sam.write_sam_project(project, 1)
    monkeypatch.setenv("FAKE_SAM_FAIL", "1")

    with pytest.raises(ToolchainError, match="fake failure") as caught:
        _sam.timed_build(cli, project, cached=True)

    assert "`build --cached` failed with SAM CLI, version 0.0.0-fake" in str(caught.value)
    assert caught.value.hint is not None and "--sam none" in caught.value.hint
