"""lambdapress-runtime: providers with Lambda lifetimes for lambdapress handlers.

```python
container = Container()

@container.per_container(check=ping, check_after=30.0, retry_on=(OperationalError,))
def connection() -> Iterator[Connection]:
    conn = connect(settings.get().database_url)
    yield conn
    conn.close()

@container.handler
def handler(event, context): ...
```

Everything public is importable from here; the modules behind it are private.
"""

from lambdapress_runtime._container import Container
from lambdapress_runtime._errors import RuntimeSetupError, SettingsError, StrictModeError
from lambdapress_runtime._provider import Provider
from lambdapress_runtime._strict import STRICT_ENV
from lambdapress_runtime._warmup import WARMUP_ANSWER, WARMUP_EVENT, is_warmup

__all__ = [
    "STRICT_ENV",
    "WARMUP_ANSWER",
    "WARMUP_EVENT",
    "Container",
    "Provider",
    "RuntimeSetupError",
    "SettingsError",
    "StrictModeError",
    "is_warmup",
]

__version__ = "0.3.0"
