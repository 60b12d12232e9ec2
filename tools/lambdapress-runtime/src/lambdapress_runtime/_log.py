"""The runtime's log lines: one JSON object per line through `logging`.

`logging` and `json` are imported on the first log line, not with the package: awslambdaric
has imported both before any handler runs, so on Lambda this costs nothing, and an import of
the runtime stays cheap everywhere else. No Powertools: the runtime has no dependencies.
"""

from __future__ import annotations

LOGGER_NAME = "lambdapress_runtime"


def log(level: str, event: str, **fields: object) -> None:
    """Log `{"level", "logger", "event", **fields}` as one JSON line.

    The logger is set to INFO when nobody configured it: Lambda's root logger is at WARNING in
    the text log format, and a warm-up ping must still show up as one.
    """
    import json
    import logging

    logger = logging.getLogger(LOGGER_NAME)
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)
    record = {"level": level, "logger": LOGGER_NAME, "event": event, **fields}
    logger.log(logging.getLevelName(level), json.dumps(record, default=str))
