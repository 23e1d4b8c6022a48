"""What the sandbox writes beside itself: the RSA key, `arbkit.toml`, the ground-truth table."""

from __future__ import annotations

import json
from decimal import Decimal
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from arbkit.errors import UserError
from arbkit.sandbox.scenario import Dislocation, Scenario

KEY_FILE = "kalshi-sandbox.pem"
CONFIG_FILE = "arbkit.toml"
GROUND_TRUTH_FILE = "ground_truth.parquet"
CONNECTIONS_FILE = "connections.jsonl"
FAULTS_FILE = "faults.jsonl"

# Exact decimals as in the run tables: gross_edge (dollars per contract pair, 1 - yes_ask - no_ask
# at top of book) and the asks as prices with 4 places; size (contracts available at that edge)
# as a size with 6 places.
PRICE = pa.decimal128(10, 4)
SIZE = pa.decimal128(18, 6)
GROUND_TRUTH_SCHEMA = pa.schema([
    pa.field("dislocation_id", pa.string()),
    pa.field("pair", pa.string()),
    pa.field("kalshi_ticker", pa.string()),
    pa.field("polymarket_yes_token", pa.string()),
    pa.field("direction", pa.string()),
    pa.field("kind", pa.string()),
    pa.field("start_ns", pa.int64()),
    pa.field("end_ns", pa.int64()),
    pa.field("gross_edge", PRICE),
    pa.field("size", SIZE),
    pa.field("yes_ask", PRICE),
    pa.field("no_ask", PRICE),
])


def make_folder(path: Path, what: str) -> None:
    """Create a folder (and parents); a path the user cannot use is a UserError."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot use {what} {path}: {exc.strerror or exc}") from None


def new_private_key() -> rsa.RSAPrivateKey:
    """A fresh RSA key for the sandbox's Kalshi server."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def write_private_key(path: Path, key: rsa.RSAPrivateKey) -> None:
    """Write the key as PKCS#8 PEM, readable by the owner only (mode 0600)."""
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _toml_str(value: str) -> str:
    return json.dumps(value)  # a JSON string of printable text is a valid TOML basic string


def config_text(scenario: Scenario, *, kalshi_ws_url: str, kalshi_rest_url: str,
                polymarket_ws_url: str, polymarket_rest_url: str, key_id: str | None,
                private_key_path: str | None, use_yes_price: bool = False,
                lifecycle: bool | None = None, custom_features: bool | None = None) -> str:
    """The DESIGN §11 config pointing at the sandbox, one [[pairs]] table per scenario pair.

    `lifecycle` subscribes Kalshi's `market_lifecycle_v2` and `custom_features` turns on
    Polymarket's custom features (`market_resolved`, `new_market`, `best_bid_ask`); by default
    each is on when the scenario sends what it carries.
    """
    cfg = scenario.config
    if lifecycle is None:
        lifecycle = cfg.resolve_at_s is not None
    if custom_features is None:
        custom_features = lifecycle or cfg.new_market_every_s is not None
    lines = [
        "# Written by arbkit sandbox. The rest_url values point at the sandbox's own loopback",
        "# servers, which also answer the venues' market-discovery REST requests (`arbkit markets`).",
        "",
        "[venues.kalshi]",
        f"ws_url = {_toml_str(kalshi_ws_url)}",
        f"rest_url = {_toml_str(kalshi_rest_url)}",
    ]
    if key_id is not None:
        lines.append(f"key_id = {_toml_str(key_id)}")
    if private_key_path is not None:
        lines.append(f"private_key_path = {_toml_str(private_key_path)}")
    lines.append(f"use_yes_price = {'true' if use_yes_price else 'false'}")
    if lifecycle:
        # Market resolutions (determined/settled) arrive on this channel only.
        lines.append('channels = ["orderbook_delta", "market_lifecycle_v2"]')
    lines += [
        "",
        "[venues.polymarket]",
        f"ws_url = {_toml_str(polymarket_ws_url)}",
        f"rest_url = {_toml_str(polymarket_rest_url)}",
    ]
    if custom_features:
        lines.append("custom_feature_enabled = true")
    for spec in scenario.pairs:
        lines += [
            "",
            "[[pairs]]",
            f"name = {_toml_str(spec.name)}",
            f"kalshi_ticker = {_toml_str(spec.kalshi_ticker)}",
            f"polymarket_yes_token = {_toml_str(spec.polymarket_yes_token)}",
            f"polymarket_no_token = {_toml_str(spec.polymarket_no_token)}",
            f"kalshi_fee_multiplier = {cfg.kalshi_fee_multiplier}",
            f"polymarket_fee_rate = {cfg.polymarket_fee_rate}",
        ]
    return "\n".join(lines) + "\n"


def write_text_atomic(path: Path, text: str) -> None:
    """Write a text file so readers see the old or the new content, never a torn one."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _dollars(ticks: int) -> Decimal:
    return Decimal(ticks).scaleb(-4)


def ground_truth_table(scenario: Scenario, dislocations: list[Dislocation]) -> pa.Table:
    """The ground-truth rows for the given dislocations (end_ns null while still open)."""
    specs = scenario.pairs
    return pa.Table.from_pylist([
        {
            "dislocation_id": d.dislocation_id,
            "pair": specs[d.pair].name,
            "kalshi_ticker": specs[d.pair].kalshi_ticker,
            "polymarket_yes_token": specs[d.pair].polymarket_yes_token,
            "direction": d.direction,
            "kind": d.kind,
            "start_ns": d.start_ns,
            "end_ns": d.end_ns,
            "gross_edge": _dollars(d.gross_edge),
            "size": Decimal(d.size).scaleb(-2),
            "yes_ask": _dollars(d.yes_ask),
            "no_ask": _dollars(d.no_ask),
        }
        for d in sorted(dislocations, key=lambda d: d.dislocation_id)
    ], schema=GROUND_TRUTH_SCHEMA)


def write_ground_truth(path: Path, scenario: Scenario, dislocations: list[Dislocation]) -> None:
    """Replace the ground-truth Parquet file atomically."""
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(ground_truth_table(scenario, dislocations), tmp)
    os.replace(tmp, path)


def append_jsonl(path: Path, row: dict) -> None:
    """Append one JSON line (connections and faults logs)."""
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(row, sort_keys=True) + "\n")
