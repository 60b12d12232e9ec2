"""ctypes lookups with literal names, read from source as they would run on Lambda (Linux)."""

from __future__ import annotations

import textwrap

import pytest

from lambdapress.bundle._library_lookups import Lookup, find_lookups, platform_specific


def lookups(source: str) -> list[tuple[int, str, str, bool]]:
    found = find_lookups(textwrap.dedent(source).encode())
    return [(f.line, f.call, f.name, f.guarded) for f in found]


def test_every_spelling_of_a_lookup_is_found() -> None:
    assert lookups(
        """
        import ctypes
        import ctypes.util
        from ctypes import CDLL, cdll, util
        from ctypes.util import find_library

        a = ctypes.util.find_library("pq")
        b = find_library("magic")
        c = ctypes.CDLL("libzbar.so.0")
        d = CDLL("/usr/lib64/libgeos_c.so.1")
        e = ctypes.cdll.LoadLibrary("libsodium.so.23")
        f = cdll.LoadLibrary("libyaml-0.so.2")
        g = ctypes.cdll.libexif.exif_data_new
        h = ctypes.PyDLL("libpython-extra.so")
        i = util.find_library("ssl")
        """
    ) == [
        (7, "ctypes.util.find_library", "pq", False),
        (8, "find_library", "magic", False),
        (9, "ctypes.CDLL", "libzbar.so.0", False),
        (10, "CDLL", "libgeos_c.so.1", False),
        (11, "ctypes.cdll.LoadLibrary", "libsodium.so.23", False),
        (12, "cdll.LoadLibrary", "libyaml-0.so.2", False),
        (13, "ctypes.cdll.libexif", "libexif", False),
        (14, "ctypes.PyDLL", "libpython-extra.so", False),
        (15, "util.find_library", "ssl", False),
    ]


def test_names_built_at_run_time_and_other_platforms_are_not_lookups() -> None:
    found = lookups(
        """
        import ctypes, os, sys, platform
        from ctypes.util import find_library

        name = os.environ["LIB"]
        ctypes.CDLL(name)
        ctypes.cdll.LoadLibrary(os.path.join(os.path.dirname(__file__), "libbundled.so"))
        ctypes.WinDLL("kernel32")
        ctypes.windll.user32.MessageBoxW
        ctypes.CDLL("libSystem.dylib")
        find_library("libpq.dll")
        if sys.platform == "win32":
            find_library("winonly")
        elif sys.platform == "darwin":
            find_library("maconly")
        if sys.platform.startswith(("win", "cygwin")):
            find_library("cygonly")
        if os.name == "nt" or platform.system() == "Darwin":
            find_library("eitherforeign")
        if sys.platform != "linux":
            find_library("notlinux")
        x = find_library("ternaryforeign") if sys.platform in ("win32", "darwin") else None
        """
    )
    assert found == []


def test_branches_that_run_on_linux_and_unknown_conditions_are_kept() -> None:
    found = lookups(
        """
        import sys
        from ctypes.util import find_library

        if sys.platform == "win32":
            pass
        else:
            find_library("pq")
        if sys.platform.startswith("linux"):
            find_library("linuxonly")
        if FAST:
            find_library("unknowncondition")
        if not sys.platform == "darwin":
            find_library("notmac")
        """
    )
    assert [name for _, _, name, _ in found] == ["pq", "linuxonly", "unknowncondition", "notmac"]


def test_a_lookup_in_a_try_that_handles_the_failure_is_guarded() -> None:
    found = lookups(
        """
        import ctypes

        try:
            lib = ctypes.CDLL("libmagic.so.1")
        except OSError:
            lib = None
        try:
            ctypes.CDLL("libvips.so.42")
        except (ValueError, ImportError):
            pass
        try:
            ctypes.CDLL("libunguarded.so.1")
        except KeyError:
            pass
        finally:
            ctypes.CDLL("libinfinally.so.1")
        """
    )
    assert [(name, guarded) for _, _, name, guarded in found] == [
        ("libmagic.so.1", True),
        ("libvips.so.42", True),
        ("libunguarded.so.1", False),
        ("libinfinally.so.1", False),
    ]


def test_source_without_ctypes_or_that_does_not_parse_has_none() -> None:
    assert find_lookups(b"import os\nprint(os.getcwd())\n") == []
    assert find_lookups(b"import ctypes\nctypes.CDLL('libx.so' \n") == []


@pytest.mark.parametrize(
    ("lookup", "soname", "answers"),
    [
        (Lookup(1, "find_library", "pq", False), "libpq.so.5", True),
        (Lookup(1, "find_library", "pq", False), "libpq-e9b5c9ac.so.5.18", False),
        (Lookup(1, "find_library", "c", False), "libc.so.6", True),
        (Lookup(1, "find_library", "c", False), "libcrypt.so.1", False),
        (Lookup(1, "ctypes.CDLL", "libpq.so.5", False), "libpq.so.5", True),
        (Lookup(1, "ctypes.CDLL", "libpq.so.5", False), "libpq.so.6", False),
        (Lookup(1, "ctypes.CDLL", "libpq.so", False), "libpq.so.5", True),
        (Lookup(1, "ctypes.cdll.libc", "libc", False), "libc.so.6", True),
    ],
)
def test_which_library_answers_a_lookup(lookup: Lookup, soname: str, answers: bool) -> None:
    assert lookup.satisfied_by(soname) is answers


def test_modules_for_another_platform_are_known_by_their_folder() -> None:
    assert platform_specific("keyring/backends/macOS/api.py")
    assert platform_specific("filelock/_windows/_handles.py")
    assert not platform_specific("psycopg/pq/misc.py")
    assert not platform_specific("windows.py")  # a module's own name says nothing
