"""Workload recordings (arbkit.sandbox.workloads): the frame mix and market state each shape promises."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest

from arbkit.config import load_config
from arbkit.runner.replay import replay
from arbkit.sandbox.workloads import generate_workload
from arbkit.store.reader import iter_frame_lists

FRAMES = 20_000


def _kinds(root: Path) -> Counter[str]:
    """Count the rows of a recording by what they are: lifecycle kind, or the frame's type."""
    counts: Counter[str] = Counter()
    for batch in iter_frame_lists(root, columns=("venue", "kind", "payload")):
        for venue, kind, payload in zip(*batch):
            if kind != "in" or not payload.startswith(b"{"):
                counts[f"{venue} {kind} {payload[:4].decode() if kind in ('in', 'out') else ''}".strip()] += 1
                continue
            frame = orjson.loads(payload)
            if venue == "kalshi":
                counts[frame["type"]] += 1
            elif frame["event_type"] == "price_change":
                counts[f"price_change x{len(frame['price_changes'])}"] += 1
            else:
                counts[frame["event_type"]] += 1
    return counts


@pytest.fixture(scope="module")
def near_parity(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("near-parity")
    return root, generate_workload(root, "near-parity", frames=FRAMES, seed=7)


def test_near_parity_has_the_frame_mix_of_busy_markets(near_parity):
    # Act
    counts = _kinds(near_parity[0])

    # Assert: ~45% Kalshi deltas, ~50% two-change price_change, ~2% snapshots and re-sends.
    assert sum(counts.values()) == FRAMES
    share = {kind: n / FRAMES for kind, n in counts.items()}
    assert 0.40 < share["orderbook_delta"] < 0.50
    assert 0.45 < share["price_change x2"] < 0.55
    assert 0.01 < share["orderbook_snapshot"] < 0.04
    assert 0.01 < share["book"] < 0.05


def test_near_parity_keeps_many_windows_open_that_fees_decide(near_parity, tmp_path):
    # Arrange
    root, config = near_parity

    # Act
    result = replay(root, load_config(config), tmp_path / "run")

    # Assert: on average well over a dozen of the 48 directions hold a window, and windows
    # mostly close because the edge went (the books stay near parity), not on staleness.
    windows = pq.read_table(tmp_path / "run" / "opportunities.parquet").to_pylist()
    recv = [t for batch in iter_frame_lists(root, columns=("recv_ns",)) for t in batch[0]]
    span = max(recv) - min(recv)
    open_on_average = sum(w["duration_ns"] for w in windows) / span
    assert 10 < open_on_average < 24
    reasons = Counter(w["close_reason"] for w in windows)
    assert reasons["edge_gone"] > 0.8 * len(windows)
    assert result.rows["trades"] > 0 and result.decode_errors == 0


def test_quiet_is_mostly_keep_alive_with_long_gaps(tmp_path):
    # Act
    generate_workload(tmp_path, "quiet", frames=5_000, seed=2)
    counts = _kinds(tmp_path)
    recv = [t for batch in iter_frame_lists(tmp_path, columns=("recv_ns",)) for t in batch[0]]

    # Assert
    keep_alive = counts["polymarket out PING"] + counts["polymarket in PONG"]
    assert keep_alive > 0.6 * 5_000
    assert (max(recv) - min(recv)) / 5_000 > 5_000_000  # > 5 ms a row on average


def test_deep_books_quote_up_to_fifty_levels_a_side(tmp_path):
    # Act
    generate_workload(tmp_path, "deep-books", frames=2_000, seed=2)

    # Assert: the opening snapshots hold up to 50 one-cent levels a side, as many as the
    # $0.01-$0.99 range leaves room for (49 each around $0.50; a side nearer an edge stops there).
    depths = []
    for batch in iter_frame_lists(tmp_path, columns=("venue", "kind", "payload")):
        for venue, kind, payload in zip(*batch):
            if venue == "kalshi" and kind == "in" and b"orderbook_snapshot" in payload:
                msg = orjson.loads(payload)["msg"]
                depths.append(sorted((len(msg["yes_dollars_fp"]), len(msg["no_dollars_fp"]))))
    assert len(depths) >= 8
    assert all(deep >= 49 and shallow >= 20 for shallow, deep in depths[:8])
