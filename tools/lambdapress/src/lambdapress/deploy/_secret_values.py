"""The values lambdapress must never print, gathered once and masked in text AWS sends back."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

# Environment variables whose values are secrets wherever they appear (ours or a function's).
_SECRET_NAME = re.compile(r"SECRET|PASSW|TOKEN|KEY|CREDENTIAL|PRIVATE|DATABASE_URL|DSN", re.I)
# Shorter values ("true", "1", "none") are settings, not secrets: masking them would garble
# every message that happens to contain the word.
_SHORTEST_SECRET = 6


@dataclass(frozen=True)
class Secrets:
    """Values that must never be printed: AWS credentials and secret-looking variables.

    lambdapress never prints a credential or a property value itself; this guards the text AWS
    sends back (error messages, stack event reasons), which may echo what it was sent.
    """

    values: tuple[str, ...] = ()

    @classmethod
    def gather(cls, *environments: dict[str, str]) -> Secrets:
        """The secret-looking values of this process's environment and of `environments`."""
        found: set[str] = set()
        for environment in (dict(os.environ), *environments):
            for name, value in environment.items():
                if _SECRET_NAME.search(name) and len(value) >= _SHORTEST_SECRET:
                    found.add(value)
        return cls(tuple(sorted(found, key=len, reverse=True)))

    def redact(self, text: str) -> str:
        """`text` with every secret value replaced by `***`."""
        for value in self.values:
            text = text.replace(value, "***")
        return text
