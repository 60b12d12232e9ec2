"""The bundler: one minimal, reproducible Lambda zip per handler, and dist/manifest.json."""

from lambdapress.bundle.pipeline import (
    PackageOptions,
    PackageResult,
    Progress,
    execute_plan,
    package,
    plan_package,
)
from lambdapress.bundle.plan import BundlePlan, FunctionPlan

__all__ = [
    "BundlePlan",
    "FunctionPlan",
    "PackageOptions",
    "PackageResult",
    "Progress",
    "execute_plan",
    "package",
    "plan_package",
]
