"""Lambda SnapStart for Python: nothing unique survives a snapshot.

SnapStart initialises a function version once, snapshots the execution environment's memory
and restores copies of it for each new environment. Whatever init left in memory is therefore
shared by every copy:

- a connection opened before the snapshot would be one socket claimed by many environments
  (and its server side is long gone by then): the container closes its per-container
  resources before the snapshot and recreates whatever exists at restore (`_container`);
- the `random` module's generator state is the same in every copy, so each would draw the
  same "random" numbers (AWS's uniqueness guidance: reseed after restore). `random.seed()`
  reseeds the module's generator from `os.urandom`, which the kernel keeps unique per
  restored environment; `secrets`, `uuid.uuid4` and `random.SystemRandom` read `os.urandom`
  on every call and need nothing. (`tempfile`'s name generator is also snapshotted, but each
  environment has its own /tmp, so equal names never meet. The string hash seed,
  PYTHONHASHSEED, is fixed at interpreter start and cannot be changed by a running process.)
- boto3's default session keeps the credentials it resolved during init (the execution role's
  temporary credentials as the snapshot saw them): it is replaced by a new session (sharing
  the old one's loaded service models), so the next `boto3.client(...)` resolves credentials
  again, as a fresh environment would. Clients kept by per-container providers are recreated
  with the other resources.

On Lambda the `snapshot_restore_py` module is provided by the runtime (it is not on PyPI for us
to depend on); when it is importable, the container registers its hooks there.
"""

from __future__ import annotations

import sys

# `typing` and `collections.abc` are for type checkers only: importing them costs a cold start
# milliseconds (see README, "Import time"), so they are read under TYPE_CHECKING, set False here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


def register(before_snapshot: Callable[[], None], after_restore: Callable[[], None]) -> bool:
    """Register the two hooks when running under SnapStart; return whether it did."""
    try:
        import snapshot_restore_py  # type: ignore[import-not-found]
    except ImportError:
        return False
    snapshot_restore_py.register_before_snapshot(before_snapshot)
    snapshot_restore_py.register_after_restore(after_restore)
    return True


def refresh_process_state() -> list[str]:
    """Make this restored copy unique again; returns what it refreshed (for the log line).

    Only modules already imported are touched: one imported after the restore starts fresh
    anyway, and importing one here would cost every restore its import time.
    """
    refreshed: list[str] = []
    random = sys.modules.get("random")
    if random is not None:
        random.seed()  # from os.urandom: different in every restored environment
        refreshed.append("random")
    boto3 = sys.modules.get("boto3")
    session = getattr(boto3, "DEFAULT_SESSION", None)
    if boto3 is not None and session is not None:
        # A module found in sys.modules: its attributes are unknown to type checkers.
        setattr(boto3, "DEFAULT_SESSION", _fresh_session(boto3, session))  # noqa: B010
        refreshed.append("boto3")
    secrets = sys.modules.get("lambdapress_runtime.secrets")
    if secrets is not None and _cleared(secrets):
        refreshed.append("secrets")
    return refreshed


def _cleared(secrets: Any) -> bool:
    """Forget the secrets' cache: its clients and IAM tokens hold the snapshot's credentials.

    The values read before the snapshot would be correct, but every copy would then keep them
    until their max age, and the Powertools clients that read them again would sign with
    credentials of the environment that took the snapshot.
    """
    try:
        secrets.clear_cache()
    except Exception:  # never fail a restore (awslambdaric exits 65): the TTL still applies
        return False
    return True


def _fresh_session(boto3: Any, old: Any) -> Any:
    """A new boto3 session, which resolves credentials again, with `old`'s loaded models.

    Only the credentials must not survive the snapshot: the service models the old session
    loaded (JSON read from botocore's data) are the same for every copy. A new session alone
    makes the first client after a restore load them again: about 100 ms against 30 ms with
    the old loader (measured creating an STS client on a 2-core machine).
    """
    try:
        import botocore.session

        core = botocore.session.get_session()
        core.register_component("data_loader", old._session.get_component("data_loader"))
        return boto3.Session(botocore_session=core)
    except Exception:  # a boto3 without these internals: no session, the next client makes one
        # A failing after-restore hook would end the environment (awslambdaric exits 65).
        return None
