"""Before every `copier update`: a service rendered before the `storage` question keeps its
in-memory store.

Its `.copier-answers.yml` has no `storage` answer; without one, the update would take the
question's default and rewrite the service onto another store. This adds `storage: memory`
(what such a service has always had) to the answers, and leaves a service that answered, and
every other kind, alone. copier runs it before it reads the answers (so `kind` cannot be
tested in the migration's `when`), in the updated folder, with the answers file's name as the
argument; copier then reads the answers again, with this one. Plain text edit (the answers
file is a flat YAML mapping written by copier); standard library only.
"""

from __future__ import annotations

import sys
from pathlib import Path

ANSWERS = ".copier-answers.yml"


def add_storage_answer(answers: Path) -> bool:
    """Add `storage: memory` to a service's answers that lack it; True when the file changed."""
    if not answers.is_file():
        return False
    lines = answers.read_text(encoding="utf-8").splitlines()
    keys = {line.split(":", 1)[0] for line in lines if line and not line[0].isspace()}
    if "storage" in keys or "kind: service" not in lines:
        return False
    lines.append("storage: memory")
    temporary = answers.with_name(f".{answers.name}.storage-tmp")
    temporary.write_text("\n".join(lines) + "\n", encoding="utf-8")
    temporary.replace(answers)
    return True


def main() -> int:
    answers = Path.cwd() / (sys.argv[1] if len(sys.argv) > 1 else ANSWERS)
    if add_storage_answer(answers):
        print(
            f"lambdapress: this service keeps its in-memory store (storage: memory added to "
            f"{answers.name})",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
