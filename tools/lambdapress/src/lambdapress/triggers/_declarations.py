"""What a handler module declares with `lambdapress_runtime.triggers`, read from its AST.

    from lambdapress_runtime import triggers          # or `import lambdapress_runtime.triggers
                                                      # as t`, or the names themselves:
                                                      # `from lambdapress_runtime.triggers
                                                      # import sqs, Topic`
    ORDER_EVENTS = triggers.Topic("order-events")     # a handle: what the code uses

    @triggers.sqs("order-placed", batch_size=10)      # a trigger: what runs the handler
    @triggers.schedule("rate(5 minutes)")
    def handler(event, context): ...

Every built-in kind but HTTP reads its declarations here, once per module: which names stand
for the runtime's module or its members however the module's top level imports them (where
decorators and handles are evaluated; a module that does not import the runtime there costs one
look at its top-level statements); the trigger decorators of
the module's `handler` (the function Lambda runs: a trigger on another function would never
run it), each argument bound to the runtime's parameter it fills and read with
`ast.literal_eval` (code is never run, so a value must be written out: a string, a number, a
bool, None, or a list or dict of those); and the handles assigned at the module's top level
(`X = triggers.Queue("name")`), whose one argument is the resource's name.

Anything else naming a member is refused at its line with the fix, before any kind looks: a
decorator on another function or used as a plain call, a handle made inside a function (naming
its class as a type is fine), a member the runtime does not have, an unknown keyword (with the
known ones), a value that is not a literal.
`DECORATORS` and `HANDLES` are the runtime's own signatures (a test holds them equal).
"""

from __future__ import annotations

import ast
import difflib
import math
from dataclasses import dataclass
from typing import Any, Final

from lambdapress.errors import BundleError
from lambdapress.model.trigger_kinds import HANDLER_FUNCTION, HandlerSource

RUNTIME_PACKAGE: Final = "lambdapress_runtime"
RUNTIME_MODULE: Final = f"{RUNTIME_PACKAGE}.triggers"
LITERAL_FIX: Final = (
    "write it as a literal (a string, a number, True/False/None, or a list or dict of those): "
    "package reads it without running the module"
)


@dataclass(frozen=True)
class Signature:
    """A decorator's parameters: the one it takes by position, then the keyword-only ones."""

    first: str
    keywords: tuple[str, ...]

    def shown(self, name: str) -> str:
        """`sqs(queue, *, batch_size=..., ...)`."""
        return f"@triggers.{name}({self.first}, {', '.join(f'{k}=...' for k in self.keywords)})"


DECORATORS: Final[dict[str, Signature]] = {
    "sqs": Signature("queue", ("batch_size", "batch_window", "max_concurrency")),
    "sns": Signature("topic", ("filter_policy", "filter_policy_scope")),
    "schedule": Signature("expression", ("input", "enabled")),
    "rule": Signature("pattern", ("bus",)),
    "s3": Signature("bucket", ("events", "prefix", "suffix")),
    "dynamodb_stream": Signature(
        "table",
        (
            "batch_size",
            "batch_window",
            "starting_position",
            "bisect_on_error",
            "max_retries",
        ),
    ),
    "authorized": Signature("authorizer", ("scopes", "routes")),
    "authorizer": Signature("name", ("ttl", "identity_source")),
}
"""The runtime's trigger decorators and their parameters (`lambdapress_runtime.triggers`)."""
HANDLES: Final = ("Bucket", "Bus", "Queue", "Topic")
"""The runtime's handles; each takes the resource's name (`Topic("order-events")`)."""
HANDLE_PARAMETER: Final = "name"
ANYWHERE: Final = frozenset({"environment_name"})
"""Members code may use anywhere (they declare nothing)."""
MEMBERS: Final = frozenset({*DECORATORS, *HANDLES, *ANYWHERE})


@dataclass(frozen=True)
class Decoration:
    """One trigger decorator of the handler: `@triggers.sqs("order-placed", batch_size=5)`."""

    decorator: str
    """The runtime's name for it (`sqs`)."""
    arguments: dict[str, Any]
    """Each argument by the parameter it fills, as its literal's value (JSON's types)."""
    line: int

    @property
    def shown(self) -> str:
        """`@triggers.sqs` (for messages)."""
        return f"@triggers.{self.decorator}"


@dataclass(frozen=True)
class Handle:
    """One handle at the module's top level: `ORDER_EVENTS = triggers.Topic("order-events")`."""

    handle: str
    """The runtime's class (`Topic`)."""
    reference: str
    """The resource as the code names it (`order-events`, `orders/order-events`)."""
    variable: str
    line: int


@dataclass(frozen=True)
class Declarations:
    """Everything a module declares with the runtime's triggers module."""

    decorations: tuple[Decoration, ...] = ()
    handles: tuple[Handle, ...] = ()

    def of(self, decorator: str) -> tuple[Decoration, ...]:
        """The handler's decorators of one kind (`sqs`), top to bottom."""
        return tuple(d for d in self.decorations if d.decorator == decorator)

    def handles_of(self, handle: str) -> tuple[Handle, ...]:
        """The module's handles of one class (`Queue`), in order."""
        return tuple(h for h in self.handles if h.handle == handle)


_LAST: list[tuple[ast.Module, Declarations]] = []
"""The last module read, by identity: each kind asks about the same tree in turn."""


def declarations(source: HandlerSource) -> Declarations:
    """What `source` declares with `lambdapress_runtime.triggers` (read once per tree)."""
    last = _LAST[0] if _LAST else None
    if last is not None and last[0] is source.tree:
        return last[1]
    found = _Reader(source).read()
    _LAST[:] = [(source.tree, found)]
    return found


class _Reader:
    """One pass over one module (module doc)."""

    def __init__(self, source: HandlerSource) -> None:
        self.source = source
        self.modules: set[str] = set()  # names of the runtime's triggers module (`triggers`)
        self.packages: set[str] = set()  # names of its package (`lambdapress_runtime`)
        self.members: dict[str, str] = {}  # local name -> member (`T` -> `Topic`)
        self.read_here: set[int] = set()  # ids of the references accounted for

    def read(self) -> Declarations:
        self._imports()
        if not (self.modules or self.packages or self.members):
            return Declarations()
        decorations = self._decorations()
        handles = self._handles()
        self._refuse_the_rest()
        return Declarations(tuple(decorations), tuple(handles))

    # -- names ------------------------------------------------------------------------------

    def _imports(self) -> None:
        """The names the module's top level binds to the runtime.

        Decorators and handles are evaluated there, so no other import can name them: the
        bodies of functions are not read.
        """
        for node in _top_level(self.source.tree.body):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name == RUNTIME_MODULE and alias.asname:
                        self.modules.add(alias.asname)
                    elif alias.name in (RUNTIME_MODULE, RUNTIME_PACKAGE):
                        # `import lambdapress_runtime.triggers` binds `lambdapress_runtime`.
                        self.packages.add(alias.asname or RUNTIME_PACKAGE)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                if node.module == RUNTIME_PACKAGE:
                    for alias in node.names:
                        if alias.name == "triggers":
                            self.modules.add(alias.asname or alias.name)
                elif node.module == RUNTIME_MODULE:
                    for alias in node.names:
                        self._import_member(node, alias)

    def _import_member(self, node: ast.ImportFrom, alias: ast.alias) -> None:
        if alias.name == "*":
            self.members.update({member: member for member in MEMBERS})
            return
        if alias.name not in MEMBERS:
            raise self._unknown(alias.name, node.lineno)
        self.members[alias.asname or alias.name] = alias.name

    def _member(self, node: ast.AST) -> str | None:
        """The runtime member `node` names (`triggers.sqs`, `sqs`), or None."""
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            return self.members.get(node.id)
        if not isinstance(node, ast.Attribute):
            return None
        owner = node.value
        in_module = isinstance(owner, ast.Name) and owner.id in self.modules
        in_package = (
            isinstance(owner, ast.Attribute)
            and owner.attr == "triggers"
            and isinstance(owner.value, ast.Name)
            and owner.value.id in self.packages
        )
        if not (in_module or in_package):
            return None
        if node.attr not in MEMBERS and not node.attr.startswith("_"):
            raise self._unknown(node.attr, node.lineno)
        return node.attr

    def _unknown(self, name: str, line: int) -> BundleError:
        close = difflib.get_close_matches(name, sorted(MEMBERS), n=1)
        return BundleError(
            f"{RUNTIME_MODULE} has no {name!r} (its triggers: {', '.join(DECORATORS)}; its "
            f"handles: {', '.join(HANDLES)})",
            path=self.source.path,
            line=line,
            hint=f"did you mean {close[0]}?" if close else "use one of those",
        )

    # -- triggers: decorators of the handler -------------------------------------------------

    def _decorations(self) -> list[Decoration]:
        handler = self.source.handler
        found: list[Decoration] = []
        for decorator in handler.decorator_list if handler is not None else ():
            call = decorator if isinstance(decorator, ast.Call) else None
            member = self._member(call.func if call is not None else decorator)
            if member is None:
                continue
            if member not in DECORATORS:
                raise BundleError(
                    f"{member} of {RUNTIME_MODULE} decorates the handler, but it is a "
                    f"{'handle' if member in HANDLES else 'helper'}, not a trigger",
                    path=self.source.path,
                    line=decorator.lineno,
                    hint=f"declare handles at the module's top level: X = triggers.{member}"
                    '("name"); the triggers are ' + ", ".join(DECORATORS)
                    if member in HANDLES
                    else f"decorate the handler with one of {', '.join(DECORATORS)}",
                )
            if call is None:
                raise BundleError(
                    f"@triggers.{member} is not called: it needs its {DECORATORS[member].first}",
                    path=self.source.path,
                    line=decorator.lineno,
                    hint=f"write {DECORATORS[member].shown(member)}",
                )
            self.read_here.add(id(call.func))
            arguments = self._arguments(member, call)
            found.append(Decoration(member, arguments, decorator.lineno))
        return found

    def _arguments(self, member: str, call: ast.Call) -> dict[str, Any]:
        signature = DECORATORS[member]
        shown = f"@triggers.{member}"
        if any(isinstance(a, ast.Starred) for a in call.args) or any(
            k.arg is None for k in call.keywords
        ):
            raise BundleError(
                f"{shown} is given unpacked arguments (* or **), which package cannot read "
                "without running the module",
                path=self.source.path,
                line=call.lineno,
                hint=f"write each argument out: {signature.shown(member)}",
            )
        if len(call.args) > 1:
            raise BundleError(
                f"{shown} takes one argument by position, its {signature.first}; the others "
                "are keywords",
                path=self.source.path,
                line=call.args[1].lineno,
                hint=f"write them by name: {signature.shown(member)}",
            )
        values: dict[str, Any] = {}
        if call.args:
            values[signature.first] = self._literal(call.args[0], signature.first, shown)
        for keyword in call.keywords:
            name = keyword.arg or ""
            if name not in (signature.first, *signature.keywords):
                raise self._unknown_keyword(shown, name, signature, keyword.value.lineno)
            if name in values:
                raise BundleError(
                    f"{shown} is given {name} twice",
                    path=self.source.path,
                    line=keyword.value.lineno,
                    hint=f"give it once: {signature.shown(member)}",
                )
            values[name] = self._literal(keyword.value, name, shown)
        if signature.first not in values:
            raise BundleError(
                f"{shown} is not given its {signature.first}",
                path=self.source.path,
                line=call.lineno,
                hint=f"write {signature.shown(member)}",
            )
        return values

    def _unknown_keyword(
        self, shown: str, name: str, signature: Signature, line: int
    ) -> BundleError:
        known = (signature.first, *signature.keywords)
        close = difflib.get_close_matches(name, known, n=1)
        return BundleError(
            f"{shown} has no argument {name!r} (its arguments: {', '.join(known)})",
            path=self.source.path,
            line=line,
            hint=f"did you mean {close[0]}?" if close else f"use one of {', '.join(known)}",
        )

    def _literal(self, node: ast.expr, name: str, shown: str) -> Any:
        """The value of a literal argument, in JSON's types (tuples become lists)."""
        try:
            value = ast.literal_eval(node)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            raise BundleError(
                f"the argument {name} of {shown} is not a literal, so package cannot read it "
                f"without running the module ({ast.unparse(node)[:60]})",
                path=self.source.path,
                line=node.lineno,
                hint=LITERAL_FIX,
            ) from None
        problem = _json_problem(value)
        if problem is not None:
            raise BundleError(
                f"the argument {name} of {shown} holds {problem}, which has no JSON form",
                path=self.source.path,
                line=node.lineno,
                hint=LITERAL_FIX,
            )
        return _as_json(value)

    # -- uses: handles at the top level ------------------------------------------------------

    def _handles(self) -> list[Handle]:
        found: list[Handle] = []
        for statement in self.source.tree.body:
            if isinstance(statement, ast.Assign):
                targets, value = statement.targets, statement.value
            elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
                targets, value = [statement.target], statement.value
            else:
                continue
            if not isinstance(value, ast.Call):
                continue
            member = self._member(value.func)
            if member is None or member not in HANDLES:
                continue
            if not all(isinstance(t, ast.Name) for t in targets):
                continue
            self.read_here.add(id(value.func))
            reference = self._handle_reference(member, value)
            variable = next(t.id for t in targets if isinstance(t, ast.Name))
            found.append(Handle(member, reference, variable, statement.lineno))
        return found

    def _handle_reference(self, member: str, call: ast.Call) -> str:
        shown = f"triggers.{member}"
        keywords = {k.arg: k.value for k in call.keywords}
        arguments = [*call.args, *keywords.values()]
        if (
            len(arguments) != 1
            or any(isinstance(a, ast.Starred) for a in call.args)
            or set(keywords) - {HANDLE_PARAMETER}
        ):
            raise BundleError(
                f"{shown}(...) takes one argument, the {member.lower()}'s name",
                path=self.source.path,
                line=call.lineno,
                hint=f'write {shown}("name"), or {shown}("service/name") for another service\'s',
            )
        value = self._literal(arguments[0], HANDLE_PARAMETER, shown)
        if not isinstance(value, str):
            raise BundleError(
                f"the name given to {shown} is {value!r}, not a string",
                path=self.source.path,
                line=call.lineno,
                hint=f'write {shown}("name")',
            )
        return value

    # -- the rest: references anywhere else ----------------------------------------------------

    def _refuse_the_rest(self) -> None:
        owners: dict[int, str] = {}  # node inside a decorator -> what it decorates
        called: set[int] = set()  # a Call's callee: a handle made (named as a type is fine)
        references: list[ast.Name | ast.Attribute] = []
        for node in ast.walk(self.source.tree):
            if isinstance(node, ast.Call):
                called.add(id(node.func))
            elif isinstance(node, ast.Name | ast.Attribute) and id(node) not in self.read_here:
                references.append(node)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                what = _what(node, self.source.handler)
                for decorator in node.decorator_list:
                    owners.update((id(inner), what) for inner in ast.walk(decorator))
        for node in sorted(references, key=lambda node: (node.lineno, node.col_offset)):
            member = self._member(node)
            if member is None or member in ANYWHERE or member.startswith("_"):
                continue
            if member in HANDLES and id(node) not in called:
                continue
            raise self._misplaced(node, member, owners.get(id(node)))

    def _misplaced(self, node: ast.expr, member: str, owner: str | None) -> BundleError:
        if member in HANDLES:
            return BundleError(
                f"triggers.{member} is used here, but package reads handles only where the "
                "module assigns them at its top level",
                path=self.source.path,
                line=node.lineno,
                hint=f'declare it at the top of the module: X = triggers.{member}("name"), '
                "then use X",
            )
        if owner is not None:
            return BundleError(
                f"@triggers.{member} decorates {owner}, but Lambda runs the module's "
                f"`{HANDLER_FUNCTION}`: the trigger would never run it",
                path=self.source.path,
                line=node.lineno,
                hint=f"move the decorator onto `def {HANDLER_FUNCTION}`, or call {owner} "
                f"from {HANDLER_FUNCTION}",
            )
        return BundleError(
            f"triggers.{member} is used here, but package reads triggers only as "
            f"decorators of `def {HANDLER_FUNCTION}`",
            path=self.source.path,
            line=node.lineno,
            hint=f"write it as a decorator: @triggers.{member}(...) above `def {HANDLER_FUNCTION}`",
        )


def _top_level(statements: list[ast.stmt]) -> list[ast.stmt]:
    """The module's statements, with those inside its top-level `if`, `try` and `with` blocks."""
    found: list[ast.stmt] = []
    for statement in statements:
        found.append(statement)
        if isinstance(statement, ast.If | ast.With | ast.AsyncWith):
            found += _top_level(statement.body)
            found += _top_level(getattr(statement, "orelse", []))
        elif isinstance(statement, ast.Try | ast.TryStar):
            for block in (statement.body, statement.orelse, statement.finalbody):
                found += _top_level(block)
            for handler in statement.handlers:
                found += _top_level(handler.body)
    return found


def _what(
    node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, handler: ast.AST | None
) -> str:
    """How a message names what a decorator decorates (`process`, `class X`)."""
    if isinstance(node, ast.ClassDef):
        return f"class {node.name}"
    if node.name == HANDLER_FUNCTION and node is not handler:
        return f"another `{node.name}` (not the module-level one Lambda runs)"
    return f"`{node.name}`"


def _json_problem(value: object) -> str | None:
    """What in `value` JSON cannot hold (a set, bytes, a complex number, NaN...), or None."""
    if value is None or isinstance(value, bool | int | str):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"the number {value}"
    if isinstance(value, list | tuple):
        return next((p for p in map(_json_problem, value) if p is not None), None)
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"the key {key!r}, not a string"
            problem = _json_problem(item)
            if problem is not None:
                return problem
        return None
    return f"a {type(value).__name__} ({value!r:.40})"


def _as_json(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [_as_json(item) for item in value]
    if isinstance(value, dict):
        return {key: _as_json(item) for key, item in value.items()}
    return value
