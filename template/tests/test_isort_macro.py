"""The template's isort macro orders imports exactly as ruff does, for any names (fast).

ruff is the judge: each generated block is rendered through `template/macros/isort.jinja`,
then handed to `ruff check --select I --fix`; whatever ruff would change is a difference. The
names come from hypothesis: lowercase identifiers with digits (ruff compares them in natural
order, `a2` < `a10`, leading zeros included) and underscores, dotted modules, members of every
kind (CONSTANT, Class, variable, `x as y`), lines long enough to wrap.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import jinja2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jinja2.sandbox import SandboxedEnvironment

REPO_ROOT = Path(__file__).resolve().parents[2]
ENVIRONMENT = SandboxedEnvironment(loader=jinja2.FileSystemLoader(REPO_ROOT))
BLOCK = ENVIRONMENT.from_string(
    '{% from "template/macros/isort.jinja" import isort %}{% call isort() %}{{ body }}{% endcall %}'
)
# ruff puts standard library modules in a section of their own, and a module named like a
# keyword cannot be imported at all: neither is a name the template writes.
NOT_NAMES = set(sys.stdlib_module_names) | {"__future__", "as", "if", "in", "is", "or", "and"}
NOT_NAMES |= {"def", "del", "for", "not", "try", "from", "with", "else", "elif", "pass"}

# Mostly a small alphabet, so names share prefixes and differ where it matters (a digit run
# against a digit run, `_` against a letter), and sometimes any name of the template's length.
identifier = st.one_of(
    st.from_regex(r"[ab][ab019_]{0,7}", fullmatch=True),
    st.from_regex(r"[a-z][a-z0-9_]{0,29}", fullmatch=True),
).filter(lambda name: name not in NOT_NAMES)
module = st.lists(identifier, min_size=1, max_size=3).map(".".join)
member = st.one_of(
    identifier,
    identifier.map(str.upper),
    identifier.map(lambda name: name[0].upper() + name[1:]),
)
# ruff gives `x as y` a line of its own (as the template writes it: one member per such line).
alias = st.tuples(identifier, identifier).map(lambda pair: f"{pair[0]} as {pair[1]}")


@st.composite
def import_block(draw: st.DrawFn) -> str:
    """Import statements of distinct modules, in no particular order."""
    modules = draw(st.lists(module, min_size=1, max_size=5, unique=True))
    lines = []
    for name in modules:
        kind = draw(st.sampled_from(["import", "from", "from", "alias"]))
        if kind == "import":
            lines.append(f"import {name}")
        elif kind == "alias":
            lines.append(f"from {name} import {draw(alias)}")
        else:
            names = draw(st.lists(member, min_size=1, max_size=6, unique=True))
            lines.append(f"from {name} import {', '.join(names)}")
    return "\n".join(draw(st.permutations(lines)))


def ruff_fixed(code: str, folder: Path) -> str:
    """The same code after ruff's isort, with every module first-party (one section)."""
    config = folder / "pyproject.toml"
    if not config.exists():
        config.write_text(
            '[tool.ruff]\nline-length = 100\n[tool.ruff.lint.isort]\nknown-first-party = ["*"]\n'
        )
    ruff = Path(sys.executable).parent / "ruff"
    result = subprocess.run(
        [str(ruff), "check", "--select", "I", "--fix-only", "--stdin-filename", "x.py", "-"],
        input=code,
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(blocks=st.lists(import_block(), min_size=1, max_size=12))
def test_the_macro_orders_and_wraps_imports_as_ruff_does(blocks: list[str], tmp_path: Path) -> None:
    # One ruff run for many blocks: a statement between two import blocks keeps them apart.
    rendered = "\n\nSEPARATOR = 1\n\n".join(BLOCK.render(body=block) for block in blocks) + "\n"
    assert rendered == ruff_fixed(rendered, tmp_path)


def test_the_cases_that_tell_orders_apart(tmp_path: Path) -> None:
    """Each pair is what a naive sort gets wrong: `import` before `from`, natural order of
    digits (and of leading zeros), `.` before `_`, members by type, long lines wrapped."""
    lines = [
        "from zz_models import Page",
        "from accounts.models import Account, AccountIn",
        "from orders10 import a",
        "from orders2 import b",
        "from orders007 import c",
        "from orders_x import d",
        "from orders.handlers import e",
        "import lambdapress_runtime",
        "from accounts.repository import InMemoryAccountRepository, AccountRepository, ALL",
        "from line_items.models import " + ", ".join(f"LineItemNumber{n}" for n in range(6)),
    ]
    rendered = BLOCK.render(body="\n".join(lines)) + "\n"
    assert rendered == ruff_fixed(rendered, tmp_path)
    assert rendered.splitlines()[:8] == [
        "import lambdapress_runtime",
        "from accounts.models import Account, AccountIn",
        "from accounts.repository import ALL, AccountRepository, InMemoryAccountRepository",
        "from line_items.models import (",
        "    LineItemNumber0,",
        "    LineItemNumber1,",
        "    LineItemNumber2,",
        "    LineItemNumber3,",
    ]
    assert rendered.splitlines()[-6:] == [
        "from orders.handlers import e",
        "from orders007 import c",
        "from orders2 import b",
        "from orders10 import a",
        "from orders_x import d",
        "from zz_models import Page",
    ]
