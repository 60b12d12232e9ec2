"""The public API exported from the package root."""

from __future__ import annotations

import subprocess
import sys

import lambdapress
import lambdapress.errors

PUBLIC_API = {
    # the workspace and its settings
    "__version__", "find_root", "load_workspace", "Workspace", "Package", "Service",
    "ServiceSettings", "load_service_settings", "CopierAnswers", "read_answers", "load_toml",
    # `new`
    "NewPlan", "plan_new", "execute_new", "template_is_dirty",
    # `package`, and the application model it builds (the manifest is its serialisation)
    "package", "plan_package", "PackageOptions", "execute_plan", "PackageResult", "BundlePlan",
    "FunctionPlan",
    "Application", "Function", "Trigger", "HttpRoute", "Resource", "Permission",
    "read_manifest", "manifest_path",
    # the emulator's entry points, and the options they take
    "Emulator", "InvocationResult", "serve", "http_api_event", "rest_api_event",
    "WorkerOptions", "Listeners", "ServeOptions", "ApiContext",
    # every error a caller may catch
    "LambdapressError", "ConfigError", "WorkspaceError", "ScaffoldError", "BundleError",
    "EmulatorError", "ToolchainError", "BuildError", "DistributionError", "PackageIndexError",
    "PublishError", "CompatCheckError", "PinError", "IndexServerError", "ModelsError",
    "DeployError",
    "StorageError",
}  # fmt: skip


def test_the_public_api_is_exactly_these_names() -> None:
    assert sorted(lambdapress.__all__) == sorted(PUBLIC_API)
    assert lambdapress.__all__ == sorted(lambdapress.__all__)  # no name twice


def test_public_names_exist() -> None:
    missing = [name for name in lambdapress.__all__ if not hasattr(lambdapress, name)]
    assert missing == []


def test_every_error_class_is_public() -> None:
    errors = {
        name
        for name, value in vars(lambdapress.errors).items()
        if isinstance(value, type) and issubclass(value, lambdapress.LambdapressError)
    }
    assert errors <= set(lambdapress.__all__)


def test_importing_the_package_loads_no_layer_above_the_workspace() -> None:
    code = (
        "import sys, lambdapress; "
        "print(sorted(m for m in sys.modules if m.startswith(('lambdapress.bundle', "
        "'lambdapress.emulator', 'lambdapress.publish', 'lambdapress.scaffold'))))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_version_is_a_string() -> None:
    assert isinstance(lambdapress.__version__, str)
    assert lambdapress.__version__.count(".") >= 2


def test_python_dash_m_runs_the_cli() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "lambdapress", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert result.stdout.startswith(f"lambdapress {lambdapress.__version__} (template")
