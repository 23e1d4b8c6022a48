"""Hostile frames: both venues' wire shapes, then mutated (issue 16, fuzzing).

`HostileFrames(seed)` makes an endless, seeded stream of (venue, payload) frames. Each starts as a
well-shaped frame of one of the message types the decoders read (PROTOCOLS §1, §3: Kalshi
snapshots in every price era, deltas, tickers, trades, lifecycle, acks and errors; Polymarket
books, price_change in its three shapes, tick-size changes, trades, tops, new and resolved
markets, and batches of them), usually with fields then replaced by hostile values (wrong types,
huge and negative numbers, NaN/Infinity strings, non-ASCII digits, deep nesting, missing and
unknown fields), and often mutated as bytes (truncated, bytes flipped or inserted, invalid UTF-8,
duplicate keys, nesting thousands deep, a frame of megabytes). Sequence numbers and markets come
from a small pool, so the decoders' sequence and book state is exercised, not just their parsers.

The stream is for tests and `benchmarks/fuzz.py`; nothing here reads the wall clock.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

KALSHI = "kalshi"
POLYMARKET = "polymarket"

KALSHI_TICKERS = ("KXFUZZ-26DEC06-A", "KXFUZZ-26DEC06-B", "KXFUZZ-26DEC06-C")
POLYMARKET_TOKENS = (
    "71321045679252212594626385532706912750332728571942532289631379312455583992563",
    "52114319501245915516055106046884209969926127482827954674443846427813813222426",
    "3509777698529173293870378932946309347184434628144948443908557621261304812",
)
CONDITION = "0x9a3c5e7f0b1d2c3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5ce01f"

# Values that have broken (or could break) a parser reading prices, sizes, ids and timestamps.
HOSTILE_VALUES: tuple[Any, ...] = (
    None, True, False, 0, -1, 1, 2**31, -(2**63), 2**63, 2**64, 10**30, -(10**30), 1e308, -0.0,
    1.5, 0.1, "", " ", "0", "-0", "-1", "1e400", "-1e400", "NaN", "nan", "Infinity", "-Infinity",
    "inf", "0x10", "1_000", "1.2.3", "0.00000001", "99999999999999999999999999.99", "-0.0100",
    "١٢٣", "１２", "12\u0000", "\ud800", "0.5 ", " 0.5", "+0.5", ".5", "5.", "1e2", "x" * 300,
    [], {}, [[]], [["0.50"]], [["0.50", "1", "2"]], [None, None], {"price": "0.5"},
    "yes", "no", "BUY", "SELL", "buy", "determined", "settled",
)

_KALSHI_PRICE_ERAS = ("cents", "dollars", "fp")


class HostileFrames:
    """A seeded stream of well-shaped and mutated venue frames."""

    def __init__(self, seed: int, *, big_every: int = 200_000) -> None:
        """`big_every`: about one frame in this many is ~10 MB (0: never)."""
        self.rng = random.Random(seed)
        self.big_every = big_every
        self.kalshi_seq: dict[int, int] = {1: 0, 2: 0}
        self._kalshi: list[Callable[[], Any]] = [
            self._k_snapshot, self._k_delta, self._k_delta, self._k_delta, self._k_ticker,
            self._k_trade, self._k_lifecycle, self._k_ok, self._k_subscribed, self._k_error,
            self._k_unsubscribed, self._k_unknown,
        ]
        self._poly: list[Callable[[], Any]] = [
            self._p_book, self._p_change, self._p_change, self._p_change, self._p_legacy_change,
            self._p_changes_change, self._p_tick, self._p_trade, self._p_top, self._p_new,
            self._p_resolved, self._p_batch, self._p_unknown,
        ]

    def __iter__(self) -> Iterator[tuple[str, bytes]]:
        return self

    def __next__(self) -> tuple[str, bytes]:
        rng = self.rng
        venue = KALSHI if rng.random() < 0.5 else POLYMARKET
        maker = rng.choice(self._kalshi if venue == KALSHI else self._poly)
        document = maker()
        roll = rng.random()
        if roll < 0.15:
            return venue, orjson.dumps(document)  # well-shaped: keeps books and seqs alive
        if roll < 0.55:
            for _ in range(rng.randint(1, 3)):
                document = self.mutate_value(document)
            return venue, self._dumps(document)
        return venue, self.mutate_bytes(self._dumps(document))

    # -- mutations ---------------------------------------------------------------------------

    def hostile(self) -> Any:
        """One hostile JSON value."""
        rng = self.rng
        if rng.random() < 0.05:
            # Within what a JSON writer will nest; deeper frames come from `mutate_bytes`.
            return _nested(rng.randint(50, 200), rng.random() < 0.5)
        value = rng.choice(HOSTILE_VALUES)
        # A fresh copy of a list or dict: a later mutation may write into it.
        return orjson.loads(orjson.dumps(value)) if isinstance(value, list | dict) else value

    def mutate_value(self, document: Any) -> Any:
        """Replace, drop or add one field somewhere in `document` (in place); return it."""
        rng = self.rng
        containers = list(_containers(document))
        if not containers:
            return self.hostile()
        target = rng.choice(containers)
        if isinstance(target, dict):
            keys = list(target)
            action = rng.random()
            if not keys or action < 0.15:
                target[rng.choice(("type", "event_type", "msg", "seq", "sid", "extra"))] = (
                    self.hostile()
                )
            elif action < 0.3:
                del target[rng.choice(keys)]
            else:
                target[rng.choice(keys)] = self.hostile()
        elif target:
            index = rng.randrange(len(target))
            target[index] = self.hostile()
        else:
            target.append(self.hostile())
        return document

    def mutate_bytes(self, data: bytes) -> bytes:
        """One byte-level mutation of a serialized frame."""
        rng = self.rng
        choice = rng.randrange(10)
        if self.big_every and rng.randrange(self.big_every) == 0:
            return _huge(rng, data)
        if choice == 0 and data:
            return data[: rng.randrange(len(data))]
        if choice == 1 and data:
            i = rng.randrange(len(data))
            return data[:i] + bytes([rng.randrange(256)]) + data[i + 1 :]
        if choice == 2:
            i = rng.randrange(len(data) + 1)
            return data[:i] + rng.randbytes(rng.randint(1, 8)) + data[i:]
        if choice == 3:
            bad = rng.choice((b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf"))
            quote = data.find(b'"', rng.randrange(len(data) + 1))
            i = quote + 1 if quote >= 0 else rng.randrange(len(data) + 1)
            return data[:i] + bad + data[i:]
        if choice == 4 and data.startswith(b"{") and len(data) > 2:
            # Duplicate keys: JSON allows them, parsers disagree on which one wins.
            return b'{"type":"orderbook_snapshot","event_type":"book","seq":1,' + data[1:]
        if choice == 5:
            depth = rng.choice((1_100, 5_000, 20_000))
            if rng.random() < 0.5:
                return b"[" * depth + b"]" * depth
            return data[:-1] + b',"deep":' + b"[" * depth + b"]" * depth + b"}" if data.endswith(
                b"}"
            ) else b'{"a":' * depth + b"1" + b"}" * depth
        if choice == 6:
            return rng.choice((b"", b" ", b"null", b"0", b'"text"', b"PONG", b"\x00" * 8, b"\xef\xbb\xbf" + data))
        if choice == 7:
            return data + data  # two documents back to back
        if choice == 8:
            return data.replace(b'"', b"'", 1)
        return data.upper() if rng.random() < 0.5 else data.replace(b":", b": \n\t", 3)

    def _dumps(self, document: Any) -> bytes:
        try:
            return orjson.dumps(document)
        # orjson refuses a lone surrogate and integers past 64 bits; the stdlib writes both.
        except orjson.JSONEncodeError:
            return json.dumps(document).encode()

    # -- Kalshi shapes ---------------------------------------------------------------------

    def _seq(self, sid: int) -> int:
        rng = self.rng
        step = 1 if rng.random() < 0.9 else rng.choice((0, 2, -5, 1000))
        self.kalshi_seq[sid] = max(0, self.kalshi_seq[sid] + step)
        return self.kalshi_seq[sid]

    def _k_price(self, era: str) -> Any:
        cents = self.rng.randint(1, 99)
        if era == "cents":
            return cents
        if era == "dollars":
            return f"{cents / 100:.2f}"
        return f"{cents / 100:.4f}"

    def _k_levels(self, era: str) -> list[list[Any]]:
        rng = self.rng
        levels = []
        for _ in range(rng.randint(0, 6)):
            count: Any = rng.randint(1, 500)
            if era == "fp":
                count = f"{count}.{rng.randint(0, 99):02d}"
            levels.append([self._k_price(era), count])
        return levels

    def _k_snapshot(self) -> dict[str, Any]:
        era = self.rng.choice(_KALSHI_PRICE_ERAS)
        suffix = {"cents": "", "dollars": "_dollars", "fp": "_dollars_fp"}[era]
        return {
            "type": "orderbook_snapshot", "sid": 1, "seq": self._seq(1),
            "msg": {
                "market_ticker": self.rng.choice(KALSHI_TICKERS),
                "market_id": "3f1c2d4e-aaaa-4bbb-accc-123456789abc",
                f"yes{suffix}": self._k_levels(era), f"no{suffix}": self._k_levels(era),
            },
        }

    def _k_delta(self) -> dict[str, Any]:
        rng = self.rng
        msg: dict[str, Any] = {
            "market_ticker": rng.choice(KALSHI_TICKERS),
            "side": rng.choice(("yes", "no")),
            "ts": "2026-12-06T04:00:00.123456Z", "ts_ms": 1_796_529_600_123,
        }
        if rng.random() < 0.8:
            msg["price_dollars"] = self._k_price("fp")
            msg["delta_fp"] = f"{rng.randint(-50, 50)}.{rng.randint(0, 99):02d}"
        else:
            msg["price"] = self._k_price("cents")
            msg["delta"] = rng.randint(-50, 50)
        return {"type": "orderbook_delta", "sid": 1, "seq": self._seq(1), "msg": msg}

    def _k_ticker(self) -> dict[str, Any]:
        return {
            "type": "ticker", "sid": 2,
            "msg": {
                "market_ticker": self.rng.choice(KALSHI_TICKERS), "price": 12, "yes_bid": 11,
                "yes_ask": 13, "price_dollars": "", "yes_bid_dollars": "0.1100",
                "yes_ask_dollars": "0.1300", "yes_bid_size_fp": "14.00", "yes_ask_size_fp": "8.50",
                "ts": 1_770_897_976, "Clock": 13_281_241_747,
            },
        }

    def _k_trade(self) -> dict[str, Any]:
        return {
            "type": "trade", "sid": 2, "seq": self._seq(2),
            "msg": {
                "trade_id": "f851595a-6d92-424e-09f8-0d2669de70ae",
                "market_ticker": self.rng.choice(KALSHI_TICKERS), "yes_price": 77, "no_price": 23,
                "yes_price_dollars": "0.7700", "count": 75, "count_fp": "75.25",
                "taker_side": "yes", "ts": 1_770_897_981,
            },
        }

    def _k_lifecycle(self) -> dict[str, Any]:
        rng = self.rng
        return {
            "type": "market_lifecycle_v2", "sid": 3, "seq": rng.randint(1, 10**6),
            "msg": {
                "market_ticker": rng.choice(KALSHI_TICKERS),
                "event_type": rng.choice(("determined", "settled", "activated", "deactivated")),
                "result": rng.choice(("yes", "no", "")), "settlement_value": "0.0000",
            },
        }

    def _k_ok(self) -> dict[str, Any]:
        return {
            "type": "ok", "id": 6, "sid": 1, "seq": self._seq(1),
            "msg": {"market_tickers": list(self.rng.sample(KALSHI_TICKERS, 2))},
        }

    def _k_subscribed(self) -> dict[str, Any]:
        return {"type": "subscribed", "id": 1, "msg": {"channel": "orderbook_delta", "sid": 1}}

    def _k_error(self) -> dict[str, Any]:
        code = self.rng.choice((2, 6, 8, 10, 17, 25))
        return {"type": "error", "id": 3, "sid": 1, "msg": {"code": code, "msg": "fuzz"}}

    def _k_unsubscribed(self) -> dict[str, Any]:
        return {"type": "unsubscribed", "id": 4, "sid": 2, "seq": self._seq(2)}

    def _k_unknown(self) -> dict[str, Any]:
        return {"type": "fill", "sid": 9, "seq": 1, "msg": {"order_id": "x"}}

    # -- Polymarket shapes -----------------------------------------------------------------

    def _p_price(self) -> str:
        rng = self.rng
        if rng.random() < 0.3:
            return f"{rng.randint(1, 999) / 1000:.3f}"
        return f"{rng.randint(1, 99) / 100:.2f}"

    def _p_size(self) -> str:
        rng = self.rng
        return rng.choice((str(rng.randint(0, 5000)), f"{rng.randint(0, 5000)}.{rng.randint(0, 999999)}"))

    def _p_levels(self) -> list[dict[str, str]]:
        return [{"price": self._p_price(), "size": self._p_size()} for _ in range(self.rng.randint(0, 6))]

    def _p_book(self) -> dict[str, Any]:
        return {
            "event_type": "book", "asset_id": self.rng.choice(POLYMARKET_TOKENS), "market": CONDITION,
            "bids": self._p_levels(), "asks": self._p_levels(), "timestamp": "1790658661234",
            "hash": "5511583ad6f3eb4678e0a374e0cc2bd3b1975d07", "tick_size": "0.01",
            "last_trade_price": "0.920",
        }

    def _p_change(self) -> dict[str, Any]:
        rng = self.rng
        changes = []
        for _ in range(rng.randint(1, 3)):
            changes.append({
                "asset_id": rng.choice(POLYMARKET_TOKENS), "price": self._p_price(),
                "size": self._p_size(), "side": rng.choice(("BUY", "SELL")),
                "hash": "b762000000000000000000000000000000000ef9",
                "best_bid": self._p_price(), "best_ask": rng.choice((self._p_price(), "")),
            })
        return {"event_type": "price_change", "market": CONDITION, "price_changes": changes,
                "timestamp": "1790658674035"}

    def _p_legacy_change(self) -> dict[str, Any]:
        return {
            "event_type": "price_change", "asset_id": self.rng.choice(POLYMARKET_TOKENS),
            "market": CONDITION, "price": self._p_price(), "side": "SELL", "size": self._p_size(),
            "hash": "bf32b3746fff40c76c98021b7f3f07261169dd26", "timestamp": "1723967931411",
        }

    def _p_changes_change(self) -> dict[str, Any]:
        return {
            "event_type": "price_change", "asset_id": self.rng.choice(POLYMARKET_TOKENS),
            "market": CONDITION, "timestamp": "1723967931411",
            "changes": [{"price": self._p_price(), "side": "BUY", "size": self._p_size()}],
        }

    def _p_tick(self) -> dict[str, Any]:
        return {
            "event_type": "tick_size_change", "asset_id": self.rng.choice(POLYMARKET_TOKENS),
            "market": CONDITION, "old_tick_size": "0.01", "new_tick_size": "0.001",
            "timestamp": "1739068041853",
        }

    def _p_trade(self) -> dict[str, Any]:
        return {
            "event_type": "last_trade_price", "asset_id": self.rng.choice(POLYMARKET_TOKENS),
            "market": CONDITION, "fee_rate_bps": "0", "price": self._p_price(), "side": "SELL",
            "size": self._p_size(), "timestamp": "1770921571394",
            "transaction_hash": "0xdfcc917bc39862f94f76f4d17224f87026c4d2c1b1b211a1e6e479059c59a5e9",
        }

    def _p_top(self) -> dict[str, Any]:
        return {
            "event_type": "best_bid_ask", "market": CONDITION,
            "asset_id": self.rng.choice(POLYMARKET_TOKENS), "best_bid": self._p_price(),
            "best_ask": self._p_price(), "spread": "0.04", "timestamp": "1766789469958",
        }

    def _p_new(self) -> dict[str, Any]:
        return {
            "event_type": "new_market", "id": "1031769", "market": CONDITION,
            "assets_ids": list(POLYMARKET_TOKENS[:2]), "outcomes": ["Yes", "No"],
            "order_price_min_tick_size": "0.01", "timestamp": "1766790415550",
        }

    def _p_resolved(self) -> dict[str, Any]:
        return {
            "event_type": "market_resolved", "id": "1031769", "market": CONDITION,
            "assets_ids": list(POLYMARKET_TOKENS[:2]), "winning_asset_id": POLYMARKET_TOKENS[0],
            "winning_outcome": "Yes", "timestamp": "1766790415550",
        }

    def _p_batch(self) -> list[Any]:
        makers = self._poly[:-2]
        return [self.rng.choice(makers)() for _ in range(self.rng.randint(0, 4))]

    def _p_unknown(self) -> dict[str, Any]:
        return {"event_type": "fuzz_unknown", "asset_id": POLYMARKET_TOKENS[0]}


def _containers(value: Any) -> Iterator[Any]:
    """Every dict and list inside `value`, `value` included (iteratively: no recursion)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            yield item
            stack.extend(item)


def _nested(depth: int, as_list: bool) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value] if as_list else {"a": value}
    return value


def _huge(rng: random.Random, data: bytes) -> bytes:
    """A ~10 MB frame: a giant ladder, a giant string, or a giant number."""
    kind = rng.randrange(3)
    if kind == 0:
        level = b'{"price":"0.5","size":"1"},'
        return b'{"event_type":"book","asset_id":"1","bids":[' + level * 380_000 + b'{"price":"0.5","size":"1"}],"asks":[]}'
    if kind == 1:
        return b'{"type":"orderbook_delta","sid":1,"seq":1,"msg":{"market_ticker":"' + b"A" * 10_000_000 + b'"}}'
    return b'{"event_type":"last_trade_price","asset_id":"1","price":"0.5","size":"' + b"9" * 10_000_000 + b'"}'


# -- running frames through everything that reads them ---------------------------------------

FUZZ_CONFIG = f"""
[[pairs]]
name = "fuzz pair A"
kalshi_ticker = "{KALSHI_TICKERS[0]}"
polymarket_yes_token = "{POLYMARKET_TOKENS[0]}"
polymarket_no_token = "{POLYMARKET_TOKENS[1]}"

[[pairs]]
name = "fuzz pair B"
kalshi_ticker = "{KALSHI_TICKERS[1]}"
polymarket_yes_token = "{POLYMARKET_TOKENS[2]}"
polymarket_no_token = "{POLYMARKET_TOKENS[1]}"

[detector]
min_edge = 0.0
min_size = 1
max_staleness_ms = 2000

[risk]
cooldown_ms = 0
"""

T0_NS = 1_796_529_600_000_000_000
_SESSION = "20261206T040000Z-f0220f"


@dataclass
class FuzzResult:
    """What a fuzz run saw: frames fed, decode errors counted, and every uncaught exception."""

    frames: int = 0
    bytes: int = 0
    huge: int = 0  # frames over 1 MB
    decode_errors: int = 0
    outputs: int = 0
    crashes: list[str] = field(default_factory=list)


def fuzz_frames(frames: Iterable[tuple[str, bytes]], result: FuzzResult | None = None) -> FuzzResult:
    """Feed `frames` to the engine (decoders, books, detector, risk, paper fills), to the
    recorder's derived columns and to the Kalshi recorder's envelope reader; collect crashes.

    The clock advances 1 ms a frame and steps back now and then; every 5,000 frames both venues'
    connections close (books invalidated, re-opened by the next frame). An exception out of the
    engine is recorded with the frame that raised it, and a fresh engine carries on.
    """
    from arbkit.config import parse_config
    from arbkit.engine import Engine
    from arbkit.runner.connections import read_envelope, read_reply
    from arbkit.store.derive import derive_row

    config = parse_config(FUZZ_CONFIG)
    engine = Engine(config)
    result = result or FuzzResult()
    now = T0_NS
    for venue, payload in frames:
        seq = result.frames
        result.frames += 1
        result.bytes += len(payload)
        result.huge += len(payload) > 1_000_000
        now += 1_000_000 if seq % 997 else -3_000_000_000
        for what, call in (
            ("derive_row", lambda: derive_row(venue, "in", payload)),
            ("recorder envelope", lambda: _recorder_reads(read_envelope, read_reply, payload)),
        ):
            try:
                call()
            except Exception as exc:
                result.crashes.append(f"{what}: {type(exc).__name__}: {exc} <- {payload[:120]!r}")
        try:
            before = engine.decode_errors
            result.outputs += len(engine.process_row(_SESSION, seq, now, venue, 1, "in", payload))
            result.decode_errors += engine.decode_errors - before
            if seq % 5_000 == 4_999:
                for name in (KALSHI, POLYMARKET):
                    result.outputs += len(engine.process_row(_SESSION, seq, now, name, 1, "close", b"{}"))
        except Exception as exc:
            result.crashes.append(f"engine: {type(exc).__name__}: {exc} <- {venue} {payload[:120]!r}")
            engine = Engine(config)
    try:
        result.outputs += len(engine.finish())
    except Exception as exc:
        result.crashes.append(f"engine.finish: {type(exc).__name__}: {exc}")
    return result


def _recorder_reads(read_envelope: Any, read_reply: Any, payload: bytes) -> None:
    # What the Kalshi recorder parses of a frame it did not expect: the envelope, then its msg.
    frame = read_envelope(payload)
    if frame is not None and frame.msg:
        read_reply(frame.msg)
