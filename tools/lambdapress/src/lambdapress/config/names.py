"""The names a service or a model library may take: one rule, the template's and the tool's.

`lambdapress new` checks a name here before copier runs, and copier's own validators
(`copier.yml`: `resource`, `package_name`, `project_name`, `reserved_names`) are tested against
these rules name by name, so the two can never accept different names.
"""

from __future__ import annotations

import re
from typing import Final

from packaging.utils import canonicalize_name

DISTRIBUTION_PATTERN: Final = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
"""A package (distribution) or project name: lowercase letters, digits and single dashes."""
IDENTIFIER_PATTERN: Final = re.compile(r"^[a-z][a-z0-9_]*$")
"""A service (resource) name: a lowercase Python identifier, also its package and URL prefix."""
PROJECT_MAX: Final = 40
"""The longest project name (`[tool.lambdapress.deploy] project`): the first word of every name
in the stack."""
STAGE_MAX: Final = 16
"""The longest stage name (`--stage`). With `PROJECT_MAX`, what `package` assumes of a stage it
does not know yet when it checks the names a deploy will make (`bundle.aws_names`)."""
MAX_SERVICE_NAME: Final = 24
"""The longest name a new service may take: every line the template writes with it (and its
model class) stays within ruff's 100 characters."""
MAX_PACKAGE_NAME: Final = 30
"""The longest name a new model library may take, for the same reason (its import name is
written into the services' import lines)."""

# Modules every Lambda bundle imports besides the standard library, and the ones the code the
# template renders imports (its storage drivers, its runtime library, pydantic's own imports,
# pytest): a member named like one of them would shadow it inside the function or its tests.
RUNTIME_MODULES: Final = frozenset(
    {
        "annotated_types",
        "aws_lambda_powertools",
        "awslambdaric",
        "boto3",
        "botocore",
        "lambdapress",
        "lambdapress_runtime",
        "psycopg",
        "psycopg_binary",
        "pydantic",
        "pydantic_core",
        "pytest",
        "tests",
        "typing_extensions",
    }
)
# Python's keywords (soft ones too) and standard library modules of every supported Python
# (3.11 to 3.13; `sys.stdlib_module_names` of each, without private names), fixed rather than
# read from the running interpreter: the same name must be accepted or refused on every machine
# of the team. A test keeps it a superset of this interpreter's.
_PYTHON_NAMES: Final = """
    abc aifc and antigravity argparse array as assert ast async asynchat asyncio asyncore
    atexit audioop await base64 bdb binascii bisect break builtins bz2 calendar case cgi
    cgitb chunk class cmath cmd code codecs codeop collections colorsys compileall
    concurrent configparser contextlib contextvars continue copy copyreg crypt csv ctypes
    curses dataclasses datetime dbm decimal def del difflib dis distutils doctest elif else
    email encodings ensurepip enum errno except faulthandler fcntl filecmp fileinput finally
    fnmatch for fractions from ftplib functools gc genericpath getopt getpass gettext glob
    global graphlib grp gzip hashlib heapq hmac html http idlelib if imaplib imghdr imp
    import importlib in inspect io ipaddress is itertools json keyword lambda lib2to3
    linecache locale logging lzma mailbox mailcap marshal match math mimetypes mmap
    modulefinder msilib msvcrt multiprocessing netrc nis nntplib nonlocal not nt ntpath
    nturl2path numbers opcode operator optparse or os ossaudiodev pass pathlib pdb pickle
    pickletools pipes pkgutil platform plistlib poplib posix posixpath pprint profile pstats
    pty pwd py_compile pyclbr pydoc pydoc_data pyexpat queue quopri raise random re readline
    reprlib resource return rlcompleter runpy sched secrets select selectors shelve shlex
    shutil signal site smtpd smtplib sndhdr socket socketserver spwd sqlite3 sre_compile
    sre_constants sre_parse ssl stat statistics string stringprep struct subprocess sunau
    symtable sys sysconfig syslog tabnanny tarfile telnetlib tempfile termios textwrap this
    threading time timeit tkinter token tokenize tomllib trace traceback tracemalloc try tty
    turtle turtledemo types typing unicodedata unittest urllib uu uuid venv warnings wave
    weakref webbrowser while winreg winsound with wsgiref xdrlib xml xmlrpc yield zipapp
    zipfile zipimport zlib zoneinfo
"""
RESERVED_NAMES: Final = frozenset(_PYTHON_NAMES.split()) | RUNTIME_MODULES
"""Names a service or a package's import name may not take (copier.yml's `reserved_names`)."""


def is_reserved(module: str) -> bool:
    """Whether a top-level module of this name would shadow Python's or the runtime's own."""
    return module in RESERVED_NAMES


def import_name(distribution: str) -> str:
    """The module a distribution is imported as `acme-models` -> `acme_models`.

    `Acme.Models` is imported as `acme_models` too: the name is normalised first (PEP 503).
    """
    return canonicalize_name(distribution).replace("-", "_")
