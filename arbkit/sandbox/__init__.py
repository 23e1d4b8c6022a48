"""Local Kalshi- and Polymarket-compatible venues driven by a seeded scenario (DESIGN §10).

- `Scenario` (scenario.py): the pure, seeded market: latent probability per pair, both venues'
  multi-level books, injected cross-venue dislocations (the ground truth), and with its fidelity
  options (`fidelity`) sub-penny and fractional markets, tick size changes, resolutions and new
  markets.
- `KalshiSession` / `PolymarketSession` (kalshi.py, polymarket.py): one connection's protocol
  state and wire encoding, without I/O.
- `Sandbox` (server.py): both WebSocket servers on free loopback ports, an async context manager;
  `SandboxThread` runs one in a background thread; `run_sandbox` serves for a duration.
  The work folder gets `kalshi-sandbox.pem` (0600), `arbkit.toml` (DESIGN §11; its `rest_url`s
  point at the same loopback servers), `ground_truth.parquet`,
  `connections.jsonl` (per connection, numbered from 1 in accept order per venue: frames_sent,
  first/last send time) and `faults.jsonl`.
- `SandboxRest` (rest.py): the venues' market-discovery REST endpoints (Kalshi series/events/
  markets, Polymarket Gamma events/markets) on the same ports, listing the scenario's pairs among
  look-alike decoys, with scriptable faults (429, slow, malformed, 503).
- `generate_recording` (generate.py): the same scenario and encoders written straight into a
  recording, no sockets.

Ground truth columns: dislocation_id, pair, kalshi_ticker, polymarket_yes_token, direction
(`buy_kalshi_yes_poly_no` / `buy_poly_yes_kalshi_no`), kind (`lagged_jump` / `mispriced_order`),
start_ns, end_ns (venue clock, ns), gross_edge (1 - yes_ask - no_ask at top of book, dollars per
contract pair as a 4-place decimal string), size (contracts at that edge, 2-place decimal
string), yes_ask, no_ask (4-place decimal strings).
"""

from arbkit.sandbox.generate import GenerateResult, generate_recording
from arbkit.sandbox.scenario import Dislocation, PairSpec, Scenario, ScenarioConfig, fidelity
from arbkit.sandbox.server import FaultPlan, Sandbox, SandboxThread, fault_plan, run_sandbox

__all__ = [
    "Dislocation",
    "FaultPlan",
    "GenerateResult",
    "PairSpec",
    "Sandbox",
    "SandboxThread",
    "Scenario",
    "ScenarioConfig",
    "fault_plan",
    "fidelity",
    "generate_recording",
    "run_sandbox",
]
