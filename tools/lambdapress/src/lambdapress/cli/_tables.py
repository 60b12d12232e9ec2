"""The plain-text table the CLI prints when its output is not a terminal (CI logs, pipes).

On a terminal `lambdapress.cli._console.print_table` draws the same rows with rich; everywhere else
they come out of here: columns aligned with spaces and an underlined header, plain ASCII, so
logs stay greppable and stable from one run (and one rich version) to the next.
"""

from __future__ import annotations

from collections.abc import Sequence

_GAP = "  "


def render_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Columns left-aligned to their widest cell, the header underlined with dashes.

    Cells are converted with `str`; a row shorter than the header is padded with blanks, a
    longer one is a programming error. Trailing spaces are trimmed so the output diffs cleanly.
    """
    cells = [[str(cell) for cell in row] for row in rows]
    for row in cells:
        if len(row) > len(headers):
            raise ValueError(f"row has {len(row)} cells but the table has {len(headers)} columns")
        row.extend("" for _ in range(len(headers) - len(row)))
    widths = [
        max([len(header), *(len(row[index]) for row in cells)])
        for index, header in enumerate(headers)
    ]
    lines = [
        _line(headers, widths),
        _line(["-" * width for width in widths], widths),
        *(_line(row, widths) for row in cells),
    ]
    return "\n".join(lines)


def _line(cells: Sequence[str], widths: Sequence[int]) -> str:
    return _GAP.join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()
