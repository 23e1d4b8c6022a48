"""Exact fixed-point units for prices, sizes and money.

Prices are integer ticks of $0.0001 (`PRICE_SCALE` per dollar), sizes are integer millionths of
a contract (`SIZE_SCALE` per contract). Wire strings are parsed straight into these integers;
floats never enter a book, a fee or a P&L figure.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Final

from mypy_extensions import i64

PRICE_SCALE: Final = 10_000
SIZE_SCALE: Final = 1_000_000
PRICE_ONE: Final = PRICE_SCALE  # $1.00 in ticks: a binary contract's payout

_PRICE_PLACES: Final = 4
_SIZE_PLACES: Final = 6
_POWERS = tuple(10**n for n in range(_SIZE_PLACES + 1))
_CACHE_LIMIT: Final = 200_000
# Longer sizes go to the strict parser, so that `plain_millionths` stays in machine words.
_PLAIN_WHOLE: Final = 12
_PLAIN_CHARS: Final = _PLAIN_WHOLE + 1 + _SIZE_PLACES
_price_cache: dict[str, int] = {}
_size_cache: dict[str, int] = {}


def _parse_fixed(text: str, places: int) -> int:
    """Parse a plain decimal string into an integer scaled by 10**places, exactly."""
    # Fast path for what venues send ("0.4700", "1300.5", "-25.00"): one int() over the digits.
    negative = text[:1] == "-"
    body = text[1:] if negative else text
    whole, _, frac = body.partition(".")
    digits = whole + frac
    if len(frac) <= places and digits.isascii() and digits.isdigit():
        value = int(digits) * _POWERS[places - len(frac)]
        return -value if negative else value
    body = text.strip()
    negative = body.startswith("-")
    if negative or body.startswith("+"):
        body = body[1:]
    whole, _, frac = body.partition(".")
    if not (whole or frac) or not (whole + frac).isascii() or not (whole + frac).isdigit():
        raise ValueError(f"not a decimal number: {text!r}")
    if len(frac) > places:
        if frac[places:].strip("0"):
            raise ValueError(f"more than {places} decimal places: {text!r}")
        frac = frac[:places]
    value = int(whole or "0") * 10**places + int(frac.ljust(places, "0") or "0")
    return -value if negative else value


def plain_millionths(text: str, start: i64 = 0) -> i64:
    """Return the millionths in `text[start:]` when it is a plain "123", "123." or "123.45"
    (at most six places, at most twelve whole digits), else -1; `parse_size` reads the same
    value wherever this answers.

    The form venues send sizes in, read digit by digit in 64-bit machine integers (`i64`, plain
    `int` when interpreted). Compiled (mypyc), this beats a cache of sizes: sizes are so varied
    that the cache grows large and cold, and a fresh string must be hashed to be looked up.
    """
    return _plain(text, start, _SIZE_PLACES)


def plain_ticks(text: str) -> i64:
    """Return the ticks in a plain "0.47" (at most four places), else -1; `parse_price` reads
    the same value wherever this answers (see `plain_millionths`)."""
    return _plain(text, 0, _PRICE_PLACES)


def _plain(text: str, start: i64, places: i64) -> i64:
    n: i64 = len(text)
    if n <= start or n - start > _PLAIN_CHARS:
        return -1
    value: i64 = 0
    point: i64 = -1
    for i in range(start, n):
        c: i64 = ord(text[i])
        if 48 <= c <= 57:
            value = value * 10 + (c - 48)
        elif c == 46 and point < 0:
            point = i
        else:
            return -1
    if point < 0:
        whole = n - start
    else:
        places -= n - 1 - point
        whole = point - start
    # Twelve whole digits and six places stay under 10**18, inside 63 bits.
    if whole == 0 or whole > _PLAIN_WHOLE or places < 0:
        return -1
    while places > 0:
        value *= 10
        places -= 1
    return value


# `text` is typed `object`: decoders rely on a ValueError for a malformed field of any type, and
# a compiled build would raise TypeError on entry for a parameter typed `str`.
def parse_price(text: object) -> int:
    """Parse a dollar price string such as "0.4700" into ticks of $0.0001."""
    if not isinstance(text, str):
        raise ValueError(f"not a decimal string: {text!r}")
    value = _price_cache.get(text)
    if value is None:
        value = _parse_fixed(text, _PRICE_PLACES)
        if len(_price_cache) < _CACHE_LIMIT:
            _price_cache[text] = value
    return value


def parse_size(text: object) -> int:
    """Parse a contract/share count string such as "1300.5" into millionths."""
    if not isinstance(text, str):
        raise ValueError(f"not a decimal string: {text!r}")
    value = _size_cache.get(text)
    if value is None:
        value = _parse_fixed(text, _SIZE_PLACES)
        if len(_size_cache) < _CACHE_LIMIT:
            _size_cache[text] = value
    return value


def cents_to_ticks(cents: int) -> int:
    """Convert a legacy integer-cent price to ticks."""
    return cents * 100


def contracts_to_size(count: int) -> int:
    """Convert a whole-contract count to size millionths."""
    return count * SIZE_SCALE


def price_to_decimal(ticks: int) -> Decimal:
    """Render price ticks as dollars, exactly."""
    return Decimal(ticks).scaleb(-_PRICE_PLACES)


def size_to_decimal(size: int) -> Decimal:
    """Render size millionths as contracts, exactly."""
    return Decimal(size).scaleb(-_SIZE_PLACES)


def _decimal_text(value: object) -> str:
    if isinstance(value, float):
        raise ValueError(f"floats are not exact; pass a Decimal or a string: {value!r}")
    try:
        return format(Decimal(value), "f")  # type: ignore[arg-type]  # TypeError is caught
    except (InvalidOperation, TypeError) as exc:
        raise ValueError(f"not a decimal number: {value!r}") from exc


# `value: object` as for `parse_price`: anything else is a ValueError in both builds.
def decimal_to_price(value: object) -> int:
    """Convert a Decimal (or decimal string) dollar price to ticks; reject sub-tick values."""
    return _parse_fixed(_decimal_text(value), _PRICE_PLACES)


def decimal_to_size(value: object) -> int:
    """Convert a Decimal (or decimal string) size to millionths; reject finer values."""
    return _parse_fixed(_decimal_text(value), _SIZE_PLACES)
