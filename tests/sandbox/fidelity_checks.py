"""Checks shared by the sandbox fidelity tests: what a recording's resolutions did to a run."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import orjson

from arbkit.config import Config


@dataclass
class Settlement:
    """One pair's first resolution in a recording and what the run booked for it."""

    pair: str
    ns: int
    venue: str
    winner: str  # "yes" / "no" in the pair's (Kalshi YES) terms
    held: list[dict]  # the pair's position rows just before
    realised_before: Decimal
    realised_after: Decimal | None  # None: the run booked nothing at the resolution
    held_after: int  # the pair's position rows in snapshots at or after the resolution

    def hand_computed_pnl(self) -> Decimal:
        """Payout minus cost: each contract of the winning side pays $1, the other side $0."""
        return sum((row["size"] if row["outcome"] == self.winner else Decimal(0)) - row["cost"]
                   for row in self.held)


def resolutions(recording: Path, config: Config) -> dict[str, tuple[int, str, str]]:
    """Per pair name: (recv_ns, venue, winner) of the first frame that resolved it."""
    by_ticker = {p.kalshi_ticker: p for p in config.pairs}
    by_condition_token = {p.polymarket_yes_token: p for p in config.pairs}
    rows = duckdb.sql(
        f"select recv_ns, venue, payload from read_parquet('{recording}/frames/**/*.parquet', "
        "hive_partitioning=false) where kind = 'in' and msg_type in ('market_lifecycle_v2', "
        "'market_resolved') order by ingest_seq").fetchall()
    found: dict[str, tuple[int, str, str]] = {}
    for recv_ns, venue, payload in rows:
        msg = orjson.loads(payload)
        if venue == "kalshi":
            pair = by_ticker[msg["msg"]["market_ticker"]]
            winner = msg["msg"]["result"]
        else:
            pair = next(by_condition_token[a] for a in msg["assets_ids"] if a in by_condition_token)
            winner = "yes" if msg["winning_asset_id"] == pair.polymarket_yes_token else "no"
        found.setdefault(pair.name, (recv_ns, venue, winner))
    return found


def settlements(recording: Path, run_dir: Path, config: Config) -> list[Settlement]:
    """What the run booked at each pair's first resolution."""
    positions = duckdb.sql(f"select * from '{run_dir}/positions.parquet'").pl().to_dicts()
    pnl = duckdb.sql(f"select ns, realised from '{run_dir}/pnl.parquet'").fetchall()
    out = []
    for pair, (ns, venue, winner) in resolutions(recording, config).items():
        before = [row for row in positions if row["ns"] < ns]
        last = max((row["ns"] for row in before), default=None)
        out.append(Settlement(
            pair=pair, ns=ns, venue=venue, winner=winner,
            held=[row for row in before if row["ns"] == last and row["pair"] == pair],
            realised_before=next((r for t, r in reversed(pnl) if t < ns), Decimal(0)),
            realised_after=next((r for t, r in reversed(pnl) if t == ns), None),
            held_after=sum(1 for row in positions if row["ns"] >= ns and row["pair"] == pair),
        ))
    return out
