"""What `lambdapress package` is going to do, as frozen data that tests read without building.

Planning reads sources and the lock, and fills the wheel cache (a function's contents depend
on the modules its wheels provide); building only follows the plan. A plan lists, per
function, exactly which files go into its zip and why it is (or is not) rebuilt.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, SerializeAsAny

from lambdapress.bundle._remote_config import RemoteCache
from lambdapress.bundle.targets import Target
from lambdapress.bundle.trim import Omissions
from lambdapress.config.lambda_platform import EPHEMERAL_STORAGE_DEFAULT_MB, Architecture, Runtime
from lambdapress.errors import BundleError
from lambdapress.model.application import Capacity, find_function
from lambdapress.model.permissions import Permission
from lambdapress.model.resources import Resource
from lambdapress.model.triggers import Trigger

Status = Literal["build", "cached", "remote", "unchanged"]


class SourceFile(BaseModel):
    """A file of the zip: its path there, and its source on disk or its generated text."""

    model_config = ConfigDict(frozen=True)

    arcname: str
    path: Path | None = None
    text: str | None = None


class FunctionPlan(BaseModel):
    """One function: its Lambda settings, its closure, and whether it must be rebuilt."""

    model_config = ConfigDict(frozen=True)

    name: str
    service: str
    handler: str
    triggers: tuple[SerializeAsAny[Trigger], ...]
    uses: tuple[str, ...] = ()
    """The ids of the resources of the model it uses (its service's)."""
    permissions: tuple[Permission, ...] = ()
    capacity: Capacity = Capacity()
    runtime: Runtime
    architecture: Architecture
    memory: int
    timeout: int
    environment: dict[str, str]
    """The service's variables, plus the implementation pins (`PSYCOPG_IMPL`) of what ships."""
    layer_libraries: tuple[str, ...] = ()
    """Shared libraries the service says a layer provides (`[tool.lambdapress]`)."""
    target: Target
    compile: bool
    first_party: tuple[SourceFile, ...]
    modules: tuple[str, ...]
    data_files: tuple[str, ...] = ()
    ephemeral_storage: int = EPHEMERAL_STORAGE_DEFAULT_MB
    distributions: dict[str, str]
    distribution_folders: tuple[Path, ...]
    left_out: Omissions = Omissions()
    """What of its distributions the function leaves out beyond the rules by name
    (`bundle.trim`): test suites, docs and modules that cannot import that nothing reaches."""
    inputs_hash: str
    artifact: str
    status: Status


class BundlePlan(BaseModel):
    """Every selected function, sorted by name, and the warnings to show once."""

    model_config = ConfigDict(frozen=True)

    root: Path
    cache: Path
    functions: tuple[FunctionPlan, ...]
    resources: tuple[SerializeAsAny[Resource], ...] = ()
    """The resources of the selected services (the model's)."""
    warnings: tuple[str, ...] = ()
    complete: bool = True  # every service of the workspace was selected
    remote: RemoteCache | None = None
    """The shared build cache that built zips are uploaded to, if any."""

    def function(self, name: str) -> FunctionPlan:
        """The planned function called `name`, or a BundleError listing the planned ones."""
        return find_function(self.functions, name, BundleError, hint="check the name")
