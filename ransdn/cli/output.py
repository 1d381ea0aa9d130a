"""Rendering CLI results as tables or JSON."""

from __future__ import annotations

import json
import sys
from typing import Any, Callable, Sequence, TextIO

Column = tuple[str, Callable[[dict[str, Any]], Any]]


def table(rows: Sequence[dict[str, Any]], columns: Sequence[Column]) -> str:
    cells = [[h for h, _ in columns]]
    for row in rows:
        cells.append([_text(get(row)) for _, get in columns])
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
    return "\n".join(lines)


def _text(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, (list, tuple)):
        return ",".join(_text(x) for x in v) or "-"
    return str(v)


def details(obj: dict[str, Any], fields: Sequence[Column]) -> str:
    width = max(len(h) for h, _ in fields)
    return "\n".join(f"{h.ljust(width)}  {_text(get(obj))}" for h, get in fields)


class Printer:
    def __init__(self, mode: str, out: TextIO = sys.stdout) -> None:
        self.mode = mode
        self.out = out

    def json(self, obj: Any) -> None:
        self.out.write(json.dumps(obj, indent=2, sort_keys=False) + "\n")

    def show(self, obj: Any, render: Callable[[Any], str]) -> None:
        if self.mode == "json":
            self.json(obj)
        else:
            self.out.write(render(obj) + "\n")
