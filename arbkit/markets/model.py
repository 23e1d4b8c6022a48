"""One venue market as matching sees it, parsed from either venue's REST objects."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

KALSHI = "kalshi"
POLYMARKET = "polymarket"

# Normalised lifecycle: what a pair can still trade.
OPEN = "open"
UPCOMING = "upcoming"
PAUSED = "paused"
CLOSED = "closed"
RESOLVED = "resolved"


@dataclass(frozen=True)
class Outcome:
    """One outcome: its label as the venue shows it and the token that pays if it happens."""

    label: str
    token: str
    price: Decimal | None = None  # last price or mid the listing showed (evidence, not for trading)


@dataclass(frozen=True)
class Fees:
    """A venue's fee parameters for one market (PROTOCOLS §2, §4.4).

    Kalshi: `kind` is the series' `fee_type`, `rate` its `fee_multiplier`. Polymarket: `kind` is
    `feeType`, `rate` is `feeSchedule.rate` (0 when `feesEnabled` is false), None when unknown.
    """

    kind: str | None
    rate: Decimal | None


@dataclass(frozen=True)
class Market:
    """A binary (or not) market on one venue, with what a reviewer needs to trust a pair."""

    venue: str
    id: str  # Kalshi ticker; Gamma market id
    title: str  # Kalshi `title`; Gamma `question`
    subject: str  # Kalshi `yes_sub_title`; Gamma `groupItemTitle`
    no_subject: str  # Kalshi `no_sub_title` (real markets sometimes repeat the YES side here)
    event_id: str  # Kalshi event ticker; Gamma event id
    event_title: str
    series: str  # Kalshi series ticker; Gamma event slug
    outcomes: tuple[Outcome, ...]
    close_time: dt.datetime | None
    status: str  # OPEN, UPCOMING, PAUSED, CLOSED, RESOLVED
    venue_status: str  # the venue's own word for it
    rules: str
    fees: Fees
    tick_size: Decimal | None
    fetched_at: dt.datetime
    market_type: str = "binary"
    neg_risk: bool = False
    condition_id: str = ""
    # Other times the venue gives for when the outcome is known (Kalshi expected expiration,
    # occurrence); a close time far from the other venue's may still be the same outcome.
    other_times: tuple[dt.datetime, ...] = field(default_factory=tuple)

    @property
    def label(self) -> str:
        """How a person names this market: title plus the YES subject when the title lacks it."""
        if self.subject and self.subject.lower() not in self.title.lower():
            return f"{self.title} [{self.subject}]"
        return self.title


def parse_time(value: object) -> dt.datetime | None:
    """An RFC3339 / ISO-8601 timestamp (or a date) as an aware UTC datetime; None if empty."""
    if not value or not isinstance(value, str):
        return None
    text = value.strip().replace("Z", "+00:00")
    if len(text) == 10:
        text += "T00:00:00+00:00"
    if " " in text and "T" not in text:
        text = text.replace(" ", "T", 1)
    if text.endswith("+00"):
        text += ":00"
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return when.astimezone(dt.timezone.utc)


def to_decimal(value: object) -> Decimal | None:
    """A JSON number or numeric string as Decimal; None when absent or not a number."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return None
