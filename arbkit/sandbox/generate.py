"""Offline generation: the sandbox scenario written straight into a recording, no sockets.

The frames are exactly what one Kalshi connection (subscribed to `orderbook_delta` for every
market) and one Polymarket connection (every YES and NO token, initial dump) would receive from
`arbkit sandbox serve` with the same seed, on the scenario's simulated clock. Rows carry the
lifecycle a recorder writes: `open` (URL), `out` (the subscribe command), `in` frames, `close`.
With `resolve`, the first half of the pairs resolve near the end of the recording (timed from
the frame budget), so the Kalshi connection also subscribes to `market_lifecycle_v2` and the
Polymarket one turns on custom features, as the config written beside it says.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from arbkit.config import config_to_dict, parse_config
from arbkit.core.frame import STOP_CAUSE
from arbkit.sandbox import files
from arbkit.sandbox.kalshi import KalshiSession
from arbkit.sandbox.polymarket import PolymarketSession
from arbkit.sandbox.kalshi import LIFECYCLE, check_era
from arbkit.sandbox.scenario import (
    RESOLVE_LEAD_S,
    RESOLVE_STAGGER_S,
    SETTLE_AFTER_S,
    Scenario,
    ScenarioConfig,
    resolving_pairs,
)
from arbkit.store import FRAMES_SCHEMA, write_session

KALSHI = "kalshi"
POLYMARKET = "polymarket"
KALSHI_URL = "ws://127.0.0.1/trade-api/ws/v2"
POLYMARKET_URL = "ws://127.0.0.1/ws/market"
GENERATE_RATE = 2000.0  # data frames per simulated second per venue
RECEIVE_DELAY_NS = 1_000_000  # receive time = venue time + 1 ms on both venues, keeps recv_ns sorted
MONO_BASE_NS = 10**12
BATCH_ROWS = 65_536
CONN_ID = 1  # the recorder numbers a session's connections per venue from 1
FRAMES_PER_SIM_S = 2.0  # frames per simulated second per unit of rate (both venues), roughly


@dataclass(frozen=True)
class GenerateResult:
    """What `generate_recording` wrote."""

    session_id: str
    frames: int
    dislocations: int
    config_path: Path
    ground_truth_path: Path
    seconds: float


def session_id_for(epoch_ms: int, seed: int) -> str:
    """A deterministic session id in the recorder's format for a generated session."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(epoch_ms // 1000))
    return f"{stamp}-{(seed * 0x9E3779B1 + 0x5A17) & 0xFFFFFF:06x}"


def simulated_seconds(frames: int, rate: float) -> float:
    """Roughly how much simulated time `frames` rows at `rate` cover (to time scripted events)."""
    return frames / (FRAMES_PER_SIM_S * rate)


def iter_generated_batches(scenario: Scenario, frames: int, session_id: str, *,
                           kalshi_era: str = "c", batch_rows: int = BATCH_ROWS,
                           resolve: bool = False, custom_features: bool = False,
                           ) -> Iterator[pa.RecordBatch]:
    """Yield FRAMES_SCHEMA batches of exactly `frames` rows (lifecycle rows included).

    `resolve` resolves pairs near the end; `custom_features` subscribes Polymarket with them.
    """
    epoch = scenario.epoch_ns
    rows: list[tuple[int, str, str, bytes]] = []
    seq = 0
    session = pa.scalar(session_id, pa.string())
    conn = pa.scalar(CONN_ID, pa.int32())
    mono_offset = pa.scalar(MONO_BASE_NS - epoch, pa.int64())

    def flush() -> pa.RecordBatch:
        nonlocal seq
        n = len(rows)
        recv, venue, kind, payload = zip(*rows)
        recv_arr = pa.array(recv, pa.int64())
        batch = pa.RecordBatch.from_arrays([
            pa.repeat(session, n),
            pa.array(range(seq, seq + n), pa.int64()),
            recv_arr,
            pc.add(recv_arr, mono_offset),
            pa.array(venue, pa.string()),
            pa.repeat(conn, n),
            pa.array(kind, pa.string()),
            pa.array(payload, pa.binary()),
        ], schema=FRAMES_SCHEMA)
        seq += n
        rows.clear()
        return batch

    kalshi = KalshiSession(scenario, kalshi_era)
    poly = PolymarketSession(scenario)
    tickers = [p.kalshi_ticker for p in scenario.pairs]
    # The recorder's order: the order books first, then any other channel in a second command.
    subscribes = [orjson.dumps({"id": 1, "cmd": "subscribe", "params": {
        "channels": ["orderbook_delta"], "market_tickers": tickers, "use_yes_price": False}})]
    if resolve:
        subscribes.append(orjson.dumps({"id": 2, "cmd": "subscribe", "params": {
            "channels": [LIFECYCLE], "market_tickers": tickers}}))
    market = orjson.dumps({"type": "market", "assets_ids": [
        a for p in scenario.pairs for a in (p.polymarket_yes_token, p.polymarket_no_token)],
        "initial_dump": True, "custom_feature_enabled": custom_features})
    t0 = epoch + RECEIVE_DELAY_NS
    opening = [(KALSHI, "open", orjson.dumps({"url": KALSHI_URL}))]
    for command in subscribes:
        opening.append((KALSHI, "out", command))
        opening.extend((KALSHI, "in", f) for f in kalshi.handle(command))
    opening += [
        (POLYMARKET, "open", orjson.dumps({"url": POLYMARKET_URL})),
        (POLYMARKET, "out", market),
        *((POLYMARKET, "in", f) for f in poly.handle(market)[0]),
    ]
    # The session ends as a recorder's stop does: each connection closed with the stop cause.
    stop = orjson.dumps({"code": 1000, "reason": "end of generated session", "cause": STOP_CAUSE})
    closing = [(KALSHI, "close", stop), (POLYMARKET, "close", stop)]
    budget = frames - len(closing)
    rows.extend((t0, v, k, p) for v, k, p in opening[:max(0, budget)])
    written = len(rows)
    step = scenario.step
    on_kalshi = kalshi.on_items
    on_poly = poly.on_items
    append = rows.append
    t = t0
    # Simulated seconds the resolutions take to play out, with room for the last Kalshi `settled`.
    closing_s = (RESOLVE_LEAD_S + RESOLVE_STAGGER_S * max(0, resolving_pairs(len(scenario.pairs)) - 1)
                 + SETTLE_AFTER_S + 1.0)
    while written < budget:
        if resolve and scenario.now_ns - epoch >= 1_000_000_000:
            # Frames left against what the closing takes at the rate so far (the rate drops
            # once pairs close, so the estimate errs on the early side).
            rate = written / ((scenario.now_ns - epoch) / 1e9)
            if budget - written <= closing_s * rate:
                scenario.schedule_resolutions(scenario.now_ns + int(RESOLVE_LEAD_S * 1e9))
                resolve = False
        t_ns, k_items, p_items = step()
        t = t_ns + RECEIVE_DELAY_NS
        if k_items:
            for frame in on_kalshi(t_ns, k_items):
                append((t, KALSHI, "in", frame))
        if p_items:
            for frame in on_poly(t_ns, p_items):
                append((t, POLYMARKET, "in", frame))
        written = seq + len(rows)
        if len(rows) >= batch_rows:
            if written > budget:
                del rows[len(rows) - (written - budget):]
            yield flush()
    if seq + len(rows) > budget:
        del rows[budget - seq:]
    rows.extend((t, v, k, p) for v, k, p in closing[:frames - seq - len(rows)])
    if rows:
        yield flush()


def generate_recording(out: Path | str, *, frames: int, pairs: int = 4, seed: int = 0,
                       rate: float = GENERATE_RATE, epoch_ms: int | None = None,
                       kalshi_era: str = "c", scenario_config: ScenarioConfig | None = None,
                       resolve: bool = False,
                       progress: Callable[[int], None] | None = None) -> GenerateResult:
    """Write `frames` rows of the seeded scenario as a recording under `out` (DESIGN §3 layout),
    plus `out/arbkit.toml` and `out/ground_truth.parquet`. `progress(rows)` is called per batch.

    `scenario_config` carries the fidelity options (its pairs, seed and rate are replaced);
    `resolve` resolves the first half of the pairs near the end (needs 2 pairs or more).
    """
    started = time.perf_counter()
    out = Path(out)
    cfg = replace(scenario_config or ScenarioConfig(), seed=seed, pairs=pairs, rate=rate)
    if epoch_ms is not None:
        cfg = replace(cfg, epoch_ms=epoch_ms)
    check_era(cfg, kalshi_era)
    if resolve and resolving_pairs(pairs) == 0:
        raise ValueError("resolutions need at least 2 pairs (the last pair never resolves, so "
                         "the feed goes on)")
    scenario = Scenario(cfg)
    files.make_folder(out, "output folder")
    custom = resolve or cfg.new_market_every_s is not None
    text = files.config_text(scenario, kalshi_ws_url=KALSHI_URL,
                             kalshi_rest_url="http://127.0.0.1/trade-api/v2",
                             polymarket_ws_url=POLYMARKET_URL, polymarket_rest_url="http://127.0.0.1",
                             key_id=None, private_key_path=None, lifecycle=resolve,
                             custom_features=custom)
    config_path = out / files.CONFIG_FILE
    files.write_text_atomic(config_path, text)
    config = config_to_dict(parse_config(text, base_dir=out, source=str(config_path)))
    session_id = session_id_for(cfg.epoch_ms, seed)

    def batches() -> Iterator[pa.RecordBatch]:
        done = 0
        for batch in iter_generated_batches(scenario, frames, session_id, kalshi_era=kalshi_era,
                                            resolve=resolve, custom_features=custom):
            done += batch.num_rows
            yield batch
            if progress is not None:
                progress(done)

    write_session(out, batches(), config=config, session_id=session_id,
                  start_ns=scenario.epoch_ns)
    ground_truth_path = out / files.GROUND_TRUTH_FILE
    completed = scenario.completed_dislocations()
    ended = [replace(d, end_ns=scenario.now_ns) for d in scenario.active_dislocations()]
    files.write_ground_truth(ground_truth_path, scenario, completed + ended)
    return GenerateResult(session_id, frames, len(completed) + len(ended), config_path,
                          ground_truth_path, time.perf_counter() - started)
