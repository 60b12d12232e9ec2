"""How handler modules declare event sources: read from the AST however the runtime is imported.

Each refusal is checked where `package` reports it: the file, the line, and the fix.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from lambdapress.model.triggers import ScheduleTrigger, SqsTrigger
from lambdapress.triggers._declarations import DECORATORS, HANDLE_PARAMETER, HANDLES, LITERAL_FIX
from lambdapress_runtime import triggers as runtime

from .events import HANDLER, IMPORT, Repo, line_of, refused

QUEUE = "[tool.lambdapress.queues.jobs]\n"


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path / "repo")


@pytest.mark.parametrize(
    ("imports", "written"),
    [
        ("from lambdapress_runtime import triggers\n", "triggers.sqs"),
        ("from lambdapress_runtime import triggers as t\n", "t.sqs"),
        ("import lambdapress_runtime.triggers as t\n", "t.sqs"),
        ("import lambdapress_runtime.triggers\n", "lambdapress_runtime.triggers.sqs"),
        ("from lambdapress_runtime.triggers import sqs\n", "sqs"),
        ("from lambdapress_runtime.triggers import sqs as drain\n", "drain"),
        ("from lambdapress_runtime.triggers import *\n", "sqs"),
    ],
)
def test_a_decorator_is_found_however_the_runtime_is_imported(
    repo: Repo, imports: str, written: str
) -> None:
    repo.service("work", QUEUE, drain=f'{imports}\n@{written}("jobs", batch_size=5)' + HANDLER)
    (found,) = repo.function("work.drain").declared
    assert found.trigger == SqsTrigger(queue="work/sqs-queue/jobs", batch_size=5)
    assert found.line == 3


def test_a_function_has_several_triggers_of_several_kinds_and_its_routes(repo: Repo) -> None:
    source = (
        IMPORT + "from web import APIGatewayHttpResolver\napp = APIGatewayHttpResolver()\n"
        '@app.get("/jobs")\ndef jobs(): ...\n'
        '@triggers.sqs("jobs")\n@triggers.schedule("rate(1 hour)")\n'
        '@triggers.schedule("cron(0 3 ? * MON *)", input={"full": True}, enabled=False)' + HANDLER
    )
    repo.service("work", QUEUE, drain=source)
    kinds = [(t.kind, t.label) for t in repo.function("work.drain").triggers]
    assert kinds == [
        ("http", "GET /jobs"),
        ("schedule", "rate(1 hour)"),
        ("schedule", "cron(0 3 ? * MON *)"),
        ("sqs", "work/jobs"),
    ]
    second = repo.function("work.drain").triggers[2]
    assert second == ScheduleTrigger(
        expression="cron(0 3 ? * MON *)", input={"full": True}, enabled=False
    )


def test_other_decorators_and_a_module_without_the_runtime_declare_nothing(repo: Repo) -> None:
    repo.service(
        "work",
        plain="import functools\n@functools.lru_cache\ndef helper(): ...\n" + HANDLER,
        other="from somewhere import triggers\n@triggers.sqs('x')" + HANDLER,
    )
    assert repo.function("work.plain").declared == ()
    assert repo.function("work.other").declared == ()  # another library's `triggers`


def test_a_non_literal_argument_is_refused_at_its_line_naming_it(repo: Repo) -> None:
    source = IMPORT + 'SIZE = 5\n@triggers.sqs(\n    "jobs",\n    batch_size=SIZE,\n)' + HANDLER
    repo.service("work", QUEUE, drain=source)
    module = repo.module("work", "drain")
    error = refused(repo, module, line_of(module, "batch_size=SIZE"), fix="write it as a literal")
    assert "the argument batch_size of @triggers.sqs is not a literal" in error.message
    assert error.hint == LITERAL_FIX


def test_a_value_json_cannot_hold_is_refused(repo: Repo) -> None:
    source = IMPORT + '@triggers.schedule("rate(1 day)", input={"ids": {1, 2}})' + HANDLER
    repo.service("work", sweep=source)
    error = refused(repo, repo.module("work", "sweep"), 2, fix="write it as a literal")
    assert "a set" in error.message


def test_an_unknown_keyword_is_refused_with_the_known_ones(repo: Repo) -> None:
    repo.service("work", QUEUE, drain=IMPORT + '@triggers.sqs("jobs", batchsize=5)' + HANDLER)
    error = refused(repo, repo.module("work", "drain"), 2, fix="did you mean batch_size?")
    assert "(its arguments: queue, batch_size, batch_window, max_concurrency)" in error.message


@pytest.mark.parametrize(
    ("decorator", "wanted", "fix"),
    [
        ('@triggers.sqs("jobs", 5)', "takes one argument by position", "batch_size=..."),
        ("@triggers.sqs(batch_size=5)", "is not given its queue", "@triggers.sqs(queue"),
        ('@triggers.sqs("jobs", queue="jobs")', "is given queue twice", "give it once"),
        ("@triggers.sqs(*ARGS)", "unpacked arguments", "write each argument out"),
        ("@triggers.sqs", "is not called", "@triggers.sqs(queue"),
        ('@triggers.sqss("jobs")', "has no 'sqss'", "did you mean sqs?"),
        ('@triggers.Queue("jobs")', "is a handle, not a trigger", "top level"),
        ('@triggers.sqs("jobs", batch_size="10")', "batch_size: input should be", "AWS's"),
        ('@triggers.sqs("jobs", batch_size=0)', "greater than or equal to 1", "AWS's"),
    ],
)
def test_a_malformed_decorator_is_refused_at_its_line(
    repo: Repo, decorator: str, wanted: str, fix: str
) -> None:
    repo.service("work", QUEUE, drain=IMPORT + decorator + HANDLER)
    refused(repo, repo.module("work", "drain"), 2, fix=fix, message=wanted)


def test_a_decorator_on_another_function_is_refused(repo: Repo) -> None:
    source = IMPORT + '\n@triggers.sqs("jobs")\ndef process(event):\n    return event\n' + HANDLER
    repo.service("work", QUEUE, drain=source)
    error = refused(repo, repo.module("work", "drain"), 3, fix="move the decorator onto")
    assert "decorates `process`, but Lambda runs the module's `handler`" in error.message


def test_a_decorator_used_as_a_call_is_refused(repo: Repo) -> None:
    source = IMPORT + HANDLER + 'handler = triggers.sqs("jobs")(handler)\n'
    repo.service("work", QUEUE, drain=source)
    refused(repo, repo.module("work", "drain"), 5, fix="write it as a decorator")


def test_an_unknown_member_imported_by_name_is_refused(repo: Repo) -> None:
    repo.service("work", drain="from lambdapress_runtime.triggers import Queu\n" + HANDLER)
    refused(repo, repo.module("work", "drain"), 1, fix="did you mean Queue?")


def test_a_handle_is_a_use_with_its_permission_and_the_module_line(repo: Repo) -> None:
    source = IMPORT + "\nJOBS: triggers.Queue = triggers.Queue('jobs')\n" + HANDLER
    repo.service("work", QUEUE, send=source)
    (used,) = repo.function("work.send").used
    assert (used.kind, used.resource, used.line) == ("sqs", "work/sqs-queue/jobs", 3)
    (permission,) = used.permissions
    assert permission.actions == ("sqs:SendMessage",)
    assert permission.resources == ("resource:work/sqs-queue/jobs",)
    assert permission.reason == "sends to work/sqs-queue/jobs (Queue JOBS at work.handlers.send:3)"


@pytest.mark.parametrize(
    ("source", "line", "fix"),
    [
        ("def handler(event, context):\n    q = triggers.Queue('jobs')\n", 3, "top of the module"),
        ("Q = triggers.Queue('jobs', 'x')\n" + HANDLER, 2, 'triggers.Queue("name")'),
        ("Q = triggers.Queue(NAME)\n" + HANDLER, 2, "write it as a literal"),
        ("Q = triggers.Queue(5)\n" + HANDLER, 2, 'triggers.Queue("name")'),
        ("A, B = triggers.Queue('jobs'), 1\n" + HANDLER, 2, "top of the module"),
    ],
)
def test_a_handle_anywhere_else_or_without_one_literal_name_is_refused(
    repo: Repo, source: str, line: int, fix: str
) -> None:
    repo.service("work", QUEUE, send=IMPORT + source)
    refused(repo, repo.module("work", "send"), line, fix=fix)


def test_the_signatures_read_are_the_runtimes() -> None:
    """`DECORATORS` and `HANDLES` say what `lambdapress_runtime.triggers` takes, exactly."""
    for name, signature in DECORATORS.items():
        parameters = inspect.signature(getattr(runtime, name)).parameters
        assert list(parameters) == [signature.first, *signature.keywords]
        assert parameters[signature.first].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
        assert all(parameters[k].kind is inspect.Parameter.KEYWORD_ONLY for k in signature.keywords)
    for handle in HANDLES:
        assert list(inspect.signature(getattr(runtime, handle)).parameters) == [HANDLE_PARAMETER]
    public = {n for n in runtime.__all__ if n != "environment_name"}
    assert public == {*DECORATORS, *HANDLES}
