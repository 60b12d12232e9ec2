"""Shared pydantic models of the acme example platform.

Import the models from the package root; its submodules are an implementation detail.
"""

from importlib.metadata import PackageNotFoundError, version

from acme_models.base import Entity, Page

try:
    __version__ = version("acme-models")
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = ["Entity", "Page", "__version__"]
