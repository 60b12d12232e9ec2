"""One shape for everything lambdapress starts and must stop: servers, emulators, watchers."""

from __future__ import annotations

from types import TracebackType
from typing import Self


class ClosesOnExit:
    """`with thing:` closes the thing on the way out, whatever happened inside."""

    def close(self) -> None:
        """Release what the object holds (processes, servers, folders)."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
