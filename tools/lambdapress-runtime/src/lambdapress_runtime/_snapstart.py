"""Lambda SnapStart for Python: no connection survives a snapshot.

SnapStart snapshots the initialised execution environment once and restores copies of it:
a connection opened before the snapshot would be shared by every restored copy (and its
server side is long gone by then). On Lambda the `snapshot_restore_py` module is provided by
the runtime (it is not on PyPI for us to depend on); when it is importable, the container
closes its per-container resources before the snapshot and marks whatever exists after a
restore for re-creation.
"""

from __future__ import annotations

# `typing` and `collections.abc` are for type checkers only: importing them costs a cold start
# milliseconds (see README, "Import time"), so they are read under TYPE_CHECKING, set False here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable


def register(before_snapshot: Callable[[], None], after_restore: Callable[[], None]) -> bool:
    """Register the two hooks when running under SnapStart; return whether it did."""
    try:
        import snapshot_restore_py  # type: ignore[import-not-found]
    except ImportError:
        return False
    snapshot_restore_py.register_before_snapshot(before_snapshot)
    snapshot_restore_py.register_after_restore(after_restore)
    return True
