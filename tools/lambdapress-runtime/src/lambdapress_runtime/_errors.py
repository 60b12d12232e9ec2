"""The runtime's exceptions: each names what to fix, since they surface in Lambda's logs."""

from __future__ import annotations


class RuntimeSetupError(Exception):
    """A provider is used in a way that cannot work (outside an invocation, in a cycle).

    These are programming mistakes, not transient failures: they are raised at once and never
    retried.
    """


class SettingsError(Exception):
    """Environment variables a settings model needs are missing or invalid.

    One error lists every problem, so a misconfigured function is fixed in one deploy instead
    of one variable per cold start. Values are never included (they may be secrets), only the
    variable names and what is wrong with each.
    """

    def __init__(self, model: str, problems: tuple[tuple[str, str], ...]) -> None:
        self.model = model
        self.problems = problems
        lines = "\n".join(f"  {name}: {problem}" for name, problem in problems)
        count = len(problems)
        noun = "variable is" if count == 1 else "variables are"
        super().__init__(f"{count} environment {noun} missing or invalid for {model}:\n{lines}")

    @property
    def variables(self) -> tuple[str, ...]:
        """The names of the variables to set or fix, in the model's field order."""
        return tuple(name for name, _ in self.problems)


class StrictModeError(RuntimeError):
    """An invocation left work behind: a thread or a pool task still running, a resource open.

    On Lambda such leftovers run on in a frozen container, or keep it from freezing, and
    surface minutes later in another request's logs; strict mode (`LAMBDAPRESS_STRICT=1`,
    set by the emulator and the lambdapress pytest plugin) turns them into an error at the
    end of the invocation that caused them.
    """

    def __init__(
        self, threads: tuple[str, ...], resources: tuple[str, ...], tasks: tuple[str, ...] = ()
    ) -> None:
        self.threads = threads
        self.resources = resources
        self.tasks = tasks
        """Names of pool threads still running a task the invocation submitted."""
        parts = [
            f"thread {name!r} is still running (join it, or make it a daemon)" for name in threads
        ]
        parts += [
            f"a task submitted to a thread pool is still running on thread {name!r} (wait for "
            "its future before returning)"
            for name in tasks
        ]
        parts += [
            f"per-invocation resource {name} is still open (make its provider a generator "
            "that closes it after `yield`)"
            for name in resources
        ]
        super().__init__("the invocation left work behind: " + "; ".join(parts))
