"""`lambdapress cache info|prune`: the user-level cache of prepared wheels, shown and pruned.

The library (`bundle.wheel_cache`) finds the cache, lists its entries and prunes them; this
module parses the options and prints what it returns.
"""

from __future__ import annotations

import argparse
import time

from lambdapress.bundle.wheel_cache import (
    ENVIRONMENT,
    UNUSED_DAYS,
    CacheInfo,
    EntryInfo,
    cache_info,
    prune_cache,
)
from lambdapress.cli._args import Subcommands, bounded_int
from lambdapress.cli._console import print_table

_MIB = 1024 * 1024


def register(commands: Subcommands) -> None:
    """Add `cache info` and `cache prune` to the `lambdapress` command line."""
    cache = commands.add_parser(
        "cache",
        help="the user-level cache of prepared wheels: where it is, what it holds; prune it",
        description="Every project and CI run on this machine takes the wheels it needs, "
        "installed and compiled for its target, from one user-level cache: "
        f"${ENVIRONMENT}, else $XDG_CACHE_HOME/lambdapress, else ~/.cache/lambdapress.",
    )
    actions = cache.add_subparsers(title="actions", metavar="ACTION", required=True)
    info = actions.add_parser(
        "info",
        help="where the cache is, its entries and their size",
        description="Where the user-level wheel cache is, each entry (distribution, version, "
        "target, variant, files, size, last use) and the total.",
    )
    info.set_defaults(handler=_cmd_info)
    prune = actions.add_parser(
        "prune",
        help="remove the entries no build has used lately",
        description="Remove the entries no build has used for DAYS days (or all of them). An "
        "entry a running build is reading is kept; a later build prepares again what it needs.",
    )
    which = prune.add_mutually_exclusive_group()
    which.add_argument(
        "--older-than",
        type=bounded_int(0),
        default=UNUSED_DAYS,
        metavar="DAYS",
        help="remove the entries unused for this many days",
    )
    which.add_argument("--all", action="store_true", help="remove every entry not in use")
    prune.set_defaults(handler=_cmd_prune)


def _cmd_info(args: argparse.Namespace) -> int:
    info = cache_info()
    _say_where(info)
    if not info.entries:
        print("no entries: the next build prepares the wheels it needs here")
        return 0
    now = time.time()
    rows = [_row(entry, now) for entry in info.entries]
    print_table(
        ["distribution", "version", "target", "variant", "files", "size", "last used"], rows
    )
    print(
        f"\n{len(info.entries)} entries, {info.size / _MIB:,.1f} MiB "
        f"({info.disk_size / _MIB:,.1f} MiB on disk: variants share files)"
    )
    return 0


def _cmd_prune(args: argparse.Namespace) -> int:
    result = prune_cache(older_than_days=args.older_than, everything=args.all)
    rule = "every entry not in use" if args.all else f"unused for {args.older_than} days"
    print(f"wheel cache: {result.folder}")
    print(
        f"removed {len(result.removed)} entries, {rule} ({result.freed / _MIB:,.1f} MiB); "
        f"kept {result.kept + len(result.in_use)}"
    )
    for entry in result.in_use:
        print(f"  kept {entry.path.name}: a running build is reading it")
    return 0


def _say_where(info: CacheInfo) -> None:
    print(f"wheel cache: {info.folder} ({info.chosen_by})")


def _row(entry: EntryInfo, now: float) -> list[str]:
    size = f"{entry.size / _MIB:,.1f} MiB"
    used = _ago(now - entry.last_used)
    if entry.key is None:
        return [entry.path.name, "", "", "unreadable record", str(entry.files), size, used]
    key = entry.key
    return [key.name, key.version, key.target, key.variant, str(entry.files), size, used]


def _ago(seconds: float) -> str:
    """`3 days ago`, `5 hours ago`, `just now`."""
    for unit, length in (("day", 86400), ("hour", 3600), ("minute", 60)):
        count = int(seconds // length)
        if count >= 1:
            return f"{count} {unit}{'s' if count > 1 else ''} ago"
    return "just now"
