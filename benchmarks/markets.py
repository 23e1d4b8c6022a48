"""Market discovery: matching cost and REST listing throughput against the sandbox.

    .venv/bin/python benchmarks/markets.py [--pairs 50,200,1000]

For each size, the sandbox catalogue (every pair among its decoys) is parsed and matched in
process; then one size is fetched over loopback HTTP in pages of 100 (Kalshi events, Gamma events).
Prints markets, seconds, candidates scored per second, and precision/recall against the scenario.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import time
from decimal import Decimal

from arbkit.config import load_config
from arbkit.markets import RetryPolicy, connect, fetch, match
from arbkit.markets import gamma, kalshi
from arbkit.sandbox import SandboxThread, Scenario, ScenarioConfig
from arbkit.sandbox.rest import Catalogue, json_body

EPOCH_MS = 1_790_000_000_000


def _score(result, scenario) -> tuple[float, float]:
    truth = {p.kalshi_ticker: (p.polymarket_yes_token, p.polymarket_no_token) for p in scenario.pairs}
    written = {c.kalshi.id: (c.orientation.yes.token, c.orientation.no.token) for c in result.pairs}
    right = sum(1 for t, v in written.items() if truth.get(t) == v)
    return right / max(1, len(written)), right / len(truth)


def bench_match(pairs: int) -> None:
    scenario = Scenario(ScenarioConfig(pairs=pairs, seed=1, epoch_ms=EPOCH_MS))
    listing = Catalogue(scenario).listing
    wire = json.loads(json_body({"k": listing.kalshi_events, "s": listing.kalshi_series, "g": listing.gamma_events}),
                      parse_float=Decimal)
    now = dt.datetime.fromtimestamp(EPOCH_MS / 1000, dt.timezone.utc)
    start = time.perf_counter()
    km = [kalshi.parse_market(m, e, kalshi.series_fees(wire["s"][e["series_ticker"]]), now)
          for e in wire["k"] for m in e["markets"]]
    pm = [gamma.parse_market(m, e, now) for e in wire["g"] for m in e["markets"]]
    parsed = time.perf_counter() - start
    start = time.perf_counter()
    result = match(km, pm, now=now, per_market=1000)
    matched = time.perf_counter() - start
    scored = sum(len(c) for c in result.ranked.values())
    precision, recall = _score(result, scenario)
    print(f"match {pairs:>5} pairs: {len(km):>5} Kalshi x {len(pm):>5} Polymarket markets; parse "
          f"{parsed:6.2f} s, match {matched:6.2f} s ({scored / matched:>8,.0f} candidates scored/s); "
          f"precision {precision:.3f} recall {recall:.3f}")


def bench_fetch(pairs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, SandboxThread(tmp, pairs=pairs, faults="none", paced=False) as sb:
        venues = connect(load_config(sb.config_path), cache_dir=None, policy=RetryPolicy(attempts=1),
                         kalshi_page=100, gamma_page=100)
        start = time.perf_counter()
        km, pm = fetch(venues)
        wall = time.perf_counter() - start
        requests = venues.kalshi.client.requests + venues.gamma.client.requests
    print(f"fetch {pairs:>5} pairs over loopback HTTP: {len(km) + len(pm):>5} markets in {requests} requests, "
          f"{wall:.2f} s ({(len(km) + len(pm)) / wall:,.0f} markets/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", default="50,200,1000")
    args = parser.parse_args()
    sizes = [int(x) for x in args.pairs.split(",")]
    for n in sizes:
        bench_match(n)
    bench_fetch(sizes[-1])


if __name__ == "__main__":
    main()
