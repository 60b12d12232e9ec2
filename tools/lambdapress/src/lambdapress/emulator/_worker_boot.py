"""What a worker runs before the runtime client: the host's extras put out of reach.

This module's source is the worker's `python -c` program (see `container.WorkerSpec.command`),
followed by `boot(CONFIG)` and the start of the runtime client, so it is standard library
only and never imports lambdapress: the worker must see nothing of the developer's
environment. `boot` runs before the handler's module is imported and installs, through one
audit hook (`sys.addaudithook`, which no later code can remove):

- **Shared libraries Lambda lacks.** A ctypes load (`ctypes.CDLL`, `cdll.LoadLibrary`: the
  `ctypes.dlopen` audit event) of a library that is neither shipped (inside the task root or
  the runtime client's folder), nor in the Lambda runtime's image, nor provided by a layer the
  function declares (`layer_libraries`, taken from this machine) fails with the loader's own
  words, `OSError: libpq.so.5: cannot open shared object file: No such file or directory`,
  and `ctypes.util.find_library` answers None for a library outside the image. So a
  driver that falls back to the host's libpq (psycopg without `psycopg_binary`) fails locally
  as it would in the cloud. A shipped extension module linked against a missing library is
  not covered (the dynamic loader resolves it, not ctypes): `lambdapress package` reports those.
- **A read-only code folder, where the kernel cannot do it.** Without a mount namespace
  (`isolation.py`) the hook refuses Python's own writes (open for writing, mkdir, remove,
  rename, chmod...) under the task root and the runtime client with EROFS, `[Errno 30]
  Read-only file system`. Native code and child processes are not covered; the emulator warns.

The hook costs one string comparison per audit event (imports and file opens raise one each).
"""

# os.path, not pathlib: importing pathlib would cost every cold start milliseconds.
# ruff: noqa: PTH109, PTH110, PTH118, PTH119

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from importlib.machinery import ModuleSpec
    from types import ModuleType
    from typing import Any

_EROFS = 30
# Audit events that modify a path, and which of their arguments are the paths they modify.
_PATH_CHANGES = {
    "os.mkdir": (0,),
    "os.rmdir": (0,),
    "os.remove": (0,),
    "os.rename": (0, 1),
    "os.link": (1,),
    "os.symlink": (1,),
    "os.truncate": (0,),
    "os.chmod": (0,),
    "os.chown": (0,),
    "os.utime": (0,),
    "os.setxattr": (0,),
    "os.removexattr": (0,),
    "os.mkfifo": (0,),
    "os.mknod": (0,),
}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def boot(config: dict[str, Any]) -> None:
    """Install the library guard and, when asked, the read-only guard (see the docstring)."""
    libraries = frozenset(config["libraries"])
    layers = tuple(config.get("layer_libraries", ()))
    shipped = tuple(config["shipped"])
    library_dirs = tuple(config["library_dirs"])
    read_only = tuple(config["read_only"])
    guard_libraries = bool(config["guard_libraries"])

    def inside(path: str, roots: Sequence[str]) -> bool:
        return any(path == root or path.startswith(root + os.sep) for root in roots)

    def provided(file_name: str) -> bool:
        """Whether the runtime's image, or a layer the function declares, has this library.

        A layer's library is named by file (`libpq.so.5`) or by library (`libpq`: any version).
        """
        if file_name in libraries:
            return True
        return any(file_name == name or file_name.startswith(name + ".so") for name in layers)

    def loadable(name: Any) -> bool:
        """Whether Lambda's loader would find `name` (None: the main program, always there)."""
        if name is None:
            return True
        text = os.fsdecode(name)
        if os.sep not in text:  # searched: LD_LIBRARY_PATH (the zip's folders), then the image
            found = (os.path.join(folder, text) for folder in library_dirs)
            return provided(text) or any(os.path.exists(path) for path in found)
        path = os.path.realpath(os.path.join(os.getcwd(), text))
        return inside(path, shipped) or provided(os.path.basename(text))

    def refuse_write(path: Any) -> None:
        if isinstance(path, int) or path is None:
            return  # a file descriptor: the open that made it was checked
        text = os.path.realpath(os.fsdecode(path))
        if inside(text, read_only):
            raise OSError(_EROFS, "Read-only file system", os.fsdecode(path))

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event == "open":
            if read_only and _writes(args[1], args[2]):
                refuse_write(args[0])
        elif event == "ctypes.dlopen":
            if guard_libraries and not loadable(args[0]):
                raise OSError(
                    f"{args[0]}: cannot open shared object file: No such file or directory"
                )
        elif read_only and event in _PATH_CHANGES:
            for index in _PATH_CHANGES[event]:
                refuse_write(args[index])

    sys.addaudithook(hook)
    if guard_libraries:
        _guard_find_library(lambda found: provided(os.path.basename(found)))


def _writes(mode: object, flags: object) -> bool:
    """Whether an `open` audit event opens for writing (`open()` gives a mode, `os.open` flags)."""
    if isinstance(mode, str):
        return any(letter in mode for letter in "wax+")
    return isinstance(flags, int) and bool(flags & _WRITE_FLAGS)


def _guard_find_library(provided: Callable[[str], bool]) -> None:
    """Make `ctypes.util.find_library` answer None for a library the runtime's image lacks.

    On Lambda it finds only those: it reads the image's `ldconfig` cache, and the image has no
    compiler or linker for its other ways of looking. ctypes is not imported here (every cold
    start would pay for it): a finder patches `ctypes.util` as it is first imported.
    """

    def guarded(original: Callable[[str], str | None]) -> Callable[[str], str | None]:
        def find_library(name: str) -> str | None:
            found = original(name)
            return found if found is not None and provided(found) else None

        find_library.__doc__ = original.__doc__
        return find_library

    class Loader:
        def __init__(self, loader: Any) -> None:
            self.loader = loader

        def create_module(self, spec: ModuleSpec) -> ModuleType | None:
            created: ModuleType | None = self.loader.create_module(spec)
            return created

        def exec_module(self, module: ModuleType) -> None:
            self.loader.exec_module(module)
            module.find_library = guarded(module.find_library)  # type: ignore[attr-defined]

        def __getattr__(self, name: str) -> Any:
            return getattr(self.loader, name)  # get_source and the rest, for tracebacks

    class Finder:
        @staticmethod
        def find_spec(name: str, path: Any = None, target: Any = None) -> ModuleSpec | None:
            if name != "ctypes.util":
                return None
            for finder in sys.meta_path:
                if finder is Finder or not hasattr(finder, "find_spec"):
                    continue
                spec: ModuleSpec | None = finder.find_spec(name, path, target)
                if spec is not None:
                    if spec.loader is not None:
                        spec.loader = Loader(spec.loader)  # type: ignore[assignment]
                    return spec
            return None

    module = sys.modules.get("ctypes.util")
    if module is not None:
        module.find_library = guarded(module.find_library)  # type: ignore[attr-defined]
    else:
        sys.meta_path.insert(0, Finder)


def source() -> str:
    """This module's text: the start of a worker's `python -c` program."""
    from importlib import resources

    return resources.files("lambdapress.emulator").joinpath("_worker_boot.py").read_text("utf-8")
