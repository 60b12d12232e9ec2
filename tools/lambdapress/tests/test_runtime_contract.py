"""The names the tool and lambdapress-runtime share: the runtime cannot import the tool (it
ships in Lambda zips), so each defines them and this test keeps the two equal."""

from __future__ import annotations

import lambdapress_runtime
from lambdapress.config.storage_settings import WARMUP_EVENT
from lambdapress.emulator import pytest_plugin


def test_the_warmup_event_is_the_one_the_runtime_answers() -> None:
    assert lambdapress_runtime.WARMUP_EVENT == WARMUP_EVENT
    assert lambdapress_runtime.is_warmup(dict(WARMUP_EVENT))


def test_strict_mode_is_switched_by_the_variable_the_runtime_reads() -> None:
    assert pytest_plugin.STRICT_ENV == lambdapress_runtime.STRICT_ENV
