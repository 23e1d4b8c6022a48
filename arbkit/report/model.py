"""What a report is made of: sections of blocks (facts, tables, figures, notes), ready to render.

Blocks hold display text only; every value in them was read from a view and formatted, never
computed here. The template escapes all of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

from markupsafe import Markup


@dataclass(frozen=True)
class Cell:
    """One table cell: its text and, for numbers and times, the value a sort compares."""

    text: str
    sort: str | None = None
    numeric: bool = False
    changed: bool = False
    nowrap: bool = False
    title: str | None = None  # the full text, shown on hover, when `text` is shortened


@dataclass(frozen=True)
class Table:
    """A table: a caption, column headings and rows of cells."""

    block: ClassVar[str] = "table"

    title: str
    columns: list[str]
    rows: list[list[Cell]]
    caption: str = ""
    empty: str = ""
    collapsed: bool = False
    sortable: bool = True


@dataclass(frozen=True)
class Figure:
    """An inline SVG figure with its caption (the numbers behind it are in a table beside it)."""

    block: ClassVar[str] = "figure"

    title: str
    svg: Markup
    caption: str = ""


@dataclass(frozen=True)
class Note:
    """A paragraph of plain text: why a part is empty, or what to keep in mind."""

    block: ClassVar[str] = "note"

    text: str
    tone: str = "info"  # info | empty | warning


@dataclass(frozen=True)
class Facts:
    """Headline numbers: (label, text, stats key, exact value) each; the key and value let a reader
    (or a test) match a number with `arbkit stats --format json`."""

    block: ClassVar[str] = "facts"

    items: list[tuple[str, str, str | None, str | None]]


@dataclass(frozen=True)
class Bullets:
    """A list of plain-text points."""

    block: ClassVar[str] = "bullets"

    points: list[str]


Block = Table | Figure | Note | Facts | Bullets


@dataclass
class Section:
    """One titled part of the report; `seconds` is how long building it took."""

    key: str
    title: str
    intro: str = ""
    blocks: list[Block] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class Report:
    """A whole report, ready to render; `timings` are its sections after a `setup` entry (opening
    the views and reading the stats document), each with the seconds it took."""

    title: str
    subtitle: str
    generated_utc: str
    version: str
    sections: list[Section]
    timings: list[Section] = field(default_factory=list)


def number(value: Any, places: int | None = None, *, unit: str = "") -> Cell:
    """A right-aligned numeric cell (grouped thousands; `places` decimals when given)."""
    if value is None:
        return Cell("–", None, numeric=True)
    if isinstance(value, bool):
        return Cell("yes" if value else "no")
    if isinstance(value, float) and value != value:
        return Cell("–", None, numeric=True)
    if places is None:
        text = f"{value:,}" if isinstance(value, int) else f"{value:,}"
    else:
        text = f"{Decimal(str(value)):,.{places}f}" if not isinstance(value, float) else f"{value:,.{places}f}"
    return Cell(text + (f" {unit}" if unit else ""), str(value), numeric=True)


def text(value: Any) -> Cell:
    """A left-aligned text cell; None shows as a dash."""
    return Cell("–" if value is None else str(value))
