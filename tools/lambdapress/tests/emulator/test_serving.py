"""`serve`: the local sources and the Invoke API together, change detection, and rebuilds."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx
import pytest

from lambdapress.emulator import ReloadRecord, ServeOptions, Watcher, serve
from lambdapress.emulator.serving import changes, snapshot
from lambdapress.errors import BundleError, EmulatorError
from lambdapress.model.application import Application
from lambdapress.model.triggers import HttpRoute

from .conftest import EmulatorFactory, Repo


def _touch(path: Path, text: str) -> None:
    """Write `text` and move the mtime forward, so coarse file-system clocks see a change."""
    path.parent.mkdir(parents=True, exist_ok=True)
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before + 10**9, before + 10**9))


def test_snapshots_skip_caches_and_see_additions_edits_and_removals(tmp_path: Path) -> None:
    source = tmp_path / "services" / "orders" / "src" / "orders"
    _touch(source / "a.py", "a = 1")
    _touch(source / "b.py", "b = 1")
    _touch(source / "__pycache__" / "a.cpython-311.pyc", "junk")
    first = snapshot([tmp_path / "services"])
    assert set(first) == {source / "a.py", source / "b.py"}

    _touch(source / "a.py", "a = 2")
    (source / "b.py").unlink()
    _touch(source / "c.py", "c = 1")
    assert changes(first, snapshot([tmp_path / "services"])) == [
        source / "a.py", source / "b.py", source / "c.py"
    ]  # fmt: skip


def test_the_watcher_reports_a_burst_of_edits_once_it_settles(tmp_path: Path) -> None:
    seen: list[list[Path]] = []
    file = tmp_path / "src" / "m.py"
    _touch(file, "x = 1")
    watcher = Watcher([tmp_path / "src"], seen.append)

    _touch(file, "x = 2")
    assert watcher.poll() == []  # still changing: wait for the next step
    other = tmp_path / "src" / "n.py"
    _touch(other, "y = 1")
    assert watcher.poll() == []
    assert watcher.poll() == [file, other]
    assert seen == [[file, other]]
    assert watcher.poll() == []


def test_the_watcher_thread_calls_back_and_stops(tmp_path: Path) -> None:
    seen: list[list[Path]] = []
    file = tmp_path / "m.py"
    _touch(file, "x = 1")
    watcher = Watcher([tmp_path], seen.append, interval=0.01).start()
    try:
        _touch(file, "x = 2")
        for _ in range(500):
            if seen:
                break
            time.sleep(0.01)
    finally:
        watcher.close()
    assert seen == [[file]]
    assert not watcher._thread.is_alive()


def test_serve_answers_http_and_boto3_style_invokes_and_rebuilds_on_change(
    repo: Repo, make_emulator: EmulatorFactory
) -> None:
    slow, plain = (
        repo.app("http_slow", routes=(("GET", "/slow"),)),
        repo.app("http_plain", routes=(("GET", "/plain"),)),
    )
    emulator = make_emulator(repo.manifest(slow, plain), repo.root)
    sources = repo.root / "services"
    _touch(sources / "demo" / "handler.py", "v = 1")
    calls: list[Sequence[Path]] = []
    reloads: list[ReloadRecord] = []

    def rebuild(changed: Sequence[Path]) -> Application:
        calls.append(changed)
        return repo.manifest(slow.model_copy(update={"memory": 512}), plain)

    with serve(
        emulator,
        ServeOptions(
            lambda_port=0,
            rebuild=rebuild,
            watch=[sources],
            interval=3600,  # the test steps the watcher itself
            on_reload=reloads.append,
        ),
    ) as serving:
        assert serving.lambda_url is not None and serving.watcher is not None
        first = httpx.get(f"{serving.url}/slow", params={"seconds": "0"}, timeout=30)
        plain_before = httpx.get(f"{serving.url}/plain", timeout=30)
        invoked = httpx.post(
            f"{serving.lambda_url}/2015-03-31/functions/demo-http_plain/invocations",
            content=b"{}",
            timeout=30,
        )
        assert first.status_code == plain_before.status_code == invoked.status_code == 200

        _touch(sources / "demo" / "handler.py", "v = 2")
        assert serving.watcher.poll() == []
        assert serving.watcher.poll() == [sources / "demo" / "handler.py"]
        assert reloads == [
            ReloadRecord((sources / "demo" / "handler.py",), ("demo.http_slow",), None)
        ]

        second = httpx.get(f"{serving.url}/slow", params={"seconds": "0"}, timeout=30)
        assert second.text != first.text  # another process: the function was restarted
        assert httpx.get(f"{serving.url}/plain", timeout=30).status_code == 200
    assert [list(c) for c in calls] == [[sources / "demo" / "handler.py"]]
    stats = {s.function: s for s in emulator.stats()}
    assert stats["demo.http_slow"].started == 1 and stats["demo.http_slow"].invocations == 1
    assert stats["demo.http_plain"].started == 1  # kept warm across the rebuild


def test_a_failed_rebuild_keeps_serving_the_last_build(
    repo: Repo, make_emulator: EmulatorFactory
) -> None:
    plain = repo.app("http_plain", routes=(("GET", "/plain"),))
    emulator = make_emulator(repo.manifest(plain), repo.root)

    def rebuild(changed: Sequence[Path]) -> Application:
        raise BundleError("orders/handlers/get_order.py:3: invalid syntax")

    with serve(
        emulator, ServeOptions(lambda_port=None, rebuild=rebuild, watch=[repo.root])
    ) as serving:
        record = serving.apply([repo.root / "x.py"])
        assert record.error is not None and "invalid syntax" in record.error
        assert httpx.get(f"{serving.url}/plain", timeout=30).status_code == 200


def test_without_a_rebuild_hook_the_manifest_file_is_reread(
    repo: Repo, make_emulator: EmulatorFactory
) -> None:
    plain = repo.app("http_plain", routes=(("GET", "/plain"),))
    manifest_file = repo.write(repo.manifest(plain))
    emulator = make_emulator(repo.manifest(plain), repo.root)
    with serve(emulator, ServeOptions(lambda_port=None, manifest_file=manifest_file)) as serving:
        assert serving.watcher is not None and serving.watcher.paths == [manifest_file]
        assert httpx.get(f"{serving.url}/other", timeout=30).status_code == 404
        moved = plain.model_copy(update={"triggers": (HttpRoute(method="GET", path="/other"),)})
        repo.write(repo.manifest(moved))
        assert serving.apply([manifest_file]).functions == ("demo.http_plain",)
        assert httpx.get(f"{serving.url}/other", timeout=30).status_code == 200
        assert httpx.get(f"{serving.url}/plain", timeout=30).status_code == 404


def test_a_busy_port_is_a_clear_error(repo: Repo, make_emulator: EmulatorFactory) -> None:
    plain = repo.app("http_plain", routes=(("GET", "/plain"),))
    emulator = make_emulator(repo.manifest(plain), repo.root)
    with serve(emulator, ServeOptions(lambda_port=None)) as first:
        busy = int(first.url.rsplit(":", 1)[1])
        with pytest.raises(EmulatorError, match=rf"port {busy} on 127\.0\.0\.1 is already"):
            serve(emulator, ServeOptions(port=busy, lambda_port=None))


def test_the_http_api_starts_with_the_first_route_and_stays(
    repo: Repo, make_emulator: EmulatorFactory
) -> None:
    unrouted = repo.app("http_plain")
    routed = unrouted.model_copy(update={"triggers": (HttpRoute(method="GET", path="/plain"),)})
    builds = [repo.manifest(routed), repo.manifest(unrouted)]

    def rebuild(changed: Sequence[Path]) -> Application:
        return builds.pop(0)

    emulator = make_emulator(repo.manifest(unrouted), repo.root)
    with serve(
        emulator, ServeOptions(lambda_port=None, rebuild=rebuild, watch=[repo.root])
    ) as serving:
        assert serving.sources == {}  # nothing routed: no HTTP API
        with pytest.raises(EmulatorError, match="no HTTP API is running"):
            _ = serving.url
        record = serving.apply([repo.root / "x.py"])
        assert [source.name for source in record.started] == ["HTTP API"]
        assert httpx.get(f"{serving.url}/plain", timeout=30).status_code == 200
        again = serving.apply([repo.root / "x.py"])  # the route is gone: the API stays, 404
        assert again.started == () and list(serving.sources) == ["http"]
        assert httpx.get(f"{serving.url}/plain", timeout=30).status_code == 404


def _wait_until(condition: Callable[[], bool], what: str, within: float = 60.0) -> None:
    """Wait for the watcher thread (a bound on waiting, not a measurement)."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.02)


def test_the_watcher_survives_a_crashing_rebuild_and_rebuilds_the_next_change(
    repo: Repo, make_emulator: EmulatorFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LAMBDAPRESS_CACHE", raising=False)
    plain = repo.app("http_plain", routes=(("GET", "/plain"),))
    moved = plain.model_copy(update={"triggers": (HttpRoute(method="GET", path="/moved"),)})
    emulator = make_emulator(repo.manifest(plain), repo.root)
    helpers = repo.root / "services" / "demo" / "helpers.py"
    _touch(helpers, "v = 1")

    def rebuild(changed: Sequence[Path]) -> Application:
        if "(" in helpers.read_text(encoding="utf-8"):  # a bug's way of failing, not a user error
            raise SyntaxError("'(' was never closed", (str(helpers), 1, 5, "v = (", 1, 5))
        return repo.manifest(moved)

    reloads: list[ReloadRecord] = []
    with serve(
        emulator,
        ServeOptions(
            lambda_port=None,
            rebuild=rebuild,
            watch=[repo.root / "services"],
            interval=0.02,
            on_reload=reloads.append,
        ),
    ) as serving:
        assert serving.watcher is not None
        _touch(helpers, "v = (")
        _wait_until(lambda: len(reloads) == 1, "the failed rebuild is reported")
        failed = reloads[0].error
        assert failed is not None
        assert failed.startswith("internal error in lambdapress ")
        assert "SyntaxError: '(' was never closed" in failed
        log = Path(failed.split("\ndetails: ")[1])
        assert log.parent == repo.root / ".cache" / "lambdapress" / "logs"
        assert "Traceback (most recent call last)" in log.read_text(encoding="utf-8")
        assert serving.watcher._thread.is_alive()
        assert httpx.get(f"{serving.url}/plain", timeout=30).status_code == 200  # last good

        _touch(helpers, "v = 2")
        _wait_until(lambda: len(reloads) == 2, "the next change is rebuilt")
        assert reloads[1].error is None and reloads[1].functions == ("demo.http_plain",)
        assert httpx.get(f"{serving.url}/moved", timeout=30).status_code == 200
        assert httpx.get(f"{serving.url}/plain", timeout=30).status_code == 404


def test_a_failing_step_of_the_watcher_is_reported_and_the_watching_goes_on(
    tmp_path: Path,
) -> None:
    errors: list[Exception] = []
    seen: list[list[Path]] = []
    calls = 0

    def on_change(changed: list[Path]) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("the first report fails")
        seen.append(changed)

    file = tmp_path / "m.py"
    _touch(file, "x = 1")
    watcher = Watcher([tmp_path], on_change, interval=0.01, on_error=errors.append).start()
    try:
        _touch(file, "x = 2")
        _wait_until(lambda: len(errors) == 1, "the failure is reported")
        _touch(file, "x = 3")
        _wait_until(lambda: seen == [[file]], "the next change is seen")
    finally:
        watcher.close()
    assert [str(error) for error in errors] == ["the first report fails"]


SHOP_MODULES = {
    "services/shop/src/shop/helpers.py": 'GREETING = "hello"\n',
    "services/shop/src/shop/handlers/greet.py": """
from shop.helpers import GREETING


def handler(event, context):
    return {"greeting": GREETING}
""",
}


@pytest.mark.e2e
def test_serve_on_a_real_workspace_survives_a_broken_module_and_serves_the_fix(
    bare_workspace: Callable[[dict[str, str]], Path],
    runtime_cache: Path,
    make_emulator: EmulatorFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from lambdapress.bundle.pipeline import package, rebuilder

    root = bare_workspace(SHOP_MODULES)
    monkeypatch.setenv("LAMBDAPRESS_CACHE", str(runtime_cache))
    emulator = make_emulator(package(root, jobs=1).manifest, root)
    helpers = root / "services" / "shop" / "src" / "shop" / "helpers.py"
    reloads: list[ReloadRecord] = []

    with serve(
        emulator,
        ServeOptions(
            lambda_port=0,
            rebuild=rebuilder(root),
            watch=[root / "services"],
            interval=0.05,
            on_reload=reloads.append,
        ),
    ) as serving:
        invoke = f"{serving.lambda_url}/2015-03-31/functions/shop-greet/invocations"
        assert httpx.post(invoke, content=b"{}", timeout=60).json() == {"greeting": "hello"}

        _touch(helpers, 'GREETING = ("broken"\n')  # not a handler: imported by one
        _wait_until(lambda: len(reloads) == 1, "the broken module is reported", within=120)
        assert reloads[0].error is not None and "helpers.py" in reloads[0].error
        assert httpx.post(invoke, content=b"{}", timeout=60).json() == {"greeting": "hello"}

        _touch(helpers, 'GREETING = "fixed"\n')
        _wait_until(lambda: len(reloads) == 2, "the fix is rebuilt", within=120)
        assert reloads[1].error is None and reloads[1].functions == ("shop.greet",)
        assert httpx.post(invoke, content=b"{}", timeout=60).json() == {"greeting": "fixed"}


def test_serve_options_name_each_kinds_port_and_what_is_watched(tmp_path: Path) -> None:
    def rebuild(changed: Sequence[Path]) -> Application:
        raise AssertionError("not called")

    both = ServeOptions(port=3000, ports={"http": 4000, "queue": 4001})
    assert (both.port_of("http"), both.port_of("queue"), both.port_of("topic")) == (3000, 4001, 0)
    manifest = tmp_path / "manifest.json"
    assert ServeOptions(manifest_file=manifest).watched() == [manifest]
    rebuilt = ServeOptions(rebuild=rebuild, watch=[tmp_path], manifest_file=manifest)
    assert rebuilt.watched() == [tmp_path]  # a rebuild watches the sources, not its output
    assert ServeOptions().watched() == []
