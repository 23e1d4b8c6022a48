"""`arbkit sandbox serve|generate` as a user runs them."""

from __future__ import annotations

import asyncio
import os
import signal
import stat
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import duckdb
import orjson
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from websockets.asyncio.client import connect

from arbkit.cli import cli
from arbkit.config import load_config
from arbkit.core.book import BookManager
from arbkit.store import iter_frames
from arbkit.venues import make_decoder

ARBKIT = [str(Path(sys.executable).with_name("arbkit"))]


def _start_serve(workdir: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([*ARBKIT, "sandbox", "serve", "--workdir", str(workdir), "--pairs", "3",
                             "--seed", "9", *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _ready_lines(proc: subprocess.Popen) -> dict[str, str]:
    lines = {}
    while len(lines) < 3:
        line = proc.stdout.readline()
        assert line, proc.stderr.read()
        name, _, value = line.strip().partition(" ")
        lines[name] = value.strip()
    return lines


@pytest.mark.e2e
def test_serve_for_a_duration_writes_the_config_serves_and_exits_cleanly(tmp_path):
    started = time.monotonic()
    proc = _start_serve(tmp_path, "--duration", "5")
    try:
        urls = _ready_lines(proc)

        async def first_frame() -> list:
            async with connect(urls["polymarket"]) as ws:
                config = load_config(tmp_path / "arbkit.toml")
                assets = [config.pairs[0].polymarket_yes_token]
                await ws.send(orjson.dumps({"type": "market", "assets_ids": assets}).decode())
                return orjson.loads(await asyncio.wait_for(ws.recv(), 5))

        dump = asyncio.run(first_frame())
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    # It served for its whole duration, and then exited by itself (communicate did not time out):
    # only the lower bound is a fact of the server; how late it exits depends on the machine.
    assert time.monotonic() - started >= 5
    assert urls["kalshi"].startswith("ws://127.0.0.1:") and urls["kalshi"].endswith("/trade-api/ws/v2")
    assert urls["polymarket"].endswith("/ws/market")
    assert dump[0]["event_type"] == "book"
    config = load_config(tmp_path / "arbkit.toml")
    assert config.venues.kalshi.ws_url == urls["kalshi"]
    assert config.venues.polymarket.ws_url == urls["polymarket"]
    assert config.venues.kalshi.key_id and config.venues.kalshi.use_yes_price is False
    assert len(config.pairs) == 3
    key = config.key_path()
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" in key.read_bytes()
    assert pq.read_table(tmp_path / "ground_truth.parquet").column_names[:4] == [
        "dislocation_id", "pair", "kalshi_ticker", "polymarket_yes_token"]
    assert "connection(s)" in out
    assert config.venues.kalshi.key_id not in out + err


@pytest.mark.e2e
def test_serve_stops_cleanly_on_sigterm(tmp_path):
    proc = _start_serve(tmp_path)
    try:
        _ready_lines(proc)
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0


def test_generate_writes_a_replayable_recording_config_and_ground_truth(tmp_path):
    result = CliRunner().invoke(cli, ["sandbox", "generate", "--out", str(tmp_path), "--frames", "30000",
                                      "--pairs", "3", "--seed", "4"])
    assert result.exit_code == 0, result.output
    frames = list(iter_frames(tmp_path))
    assert len(frames) == 30_000
    assert [f.ingest_seq for f in frames] == sorted(f.ingest_seq for f in frames)
    config = load_config(tmp_path / "arbkit.toml")
    assert len(config.pairs) == 3 and config.venues.kalshi.key_id is None
    decoders = {"kalshi": make_decoder("kalshi"), "polymarket": make_decoder("polymarket")}
    manager = BookManager()
    for frame in frames:
        if frame.kind == "in":
            invalid = manager.apply(decoders[frame.venue].decode(frame.payload, frame.recv_ns))
            assert all(e.reason == "tick_size_change" for e in invalid)
            # Every payload is compact JSON exactly as orjson writes it (hot paths are templated).
            assert orjson.dumps(orjson.loads(frame.payload)) == frame.payload
    assert decoders["kalshi"].decode_errors == 0 and decoders["polymarket"].decode_errors == 0
    valid = [b for b in manager.books.values() if b.valid]
    assert len(valid) == 9  # 3 Kalshi tickers + 3 YES and 3 NO tokens
    assert pq.read_table(tmp_path / "ground_truth.parquet").num_rows >= 1


@pytest.mark.e2e
@pytest.mark.slow
def test_generate_a_million_frames_reads_back_with_duckdb(tmp_path):
    env = {**os.environ, "COLUMNS": "120"}
    proc = subprocess.run([*ARBKIT, "sandbox", "generate", "--out", str(tmp_path), "--frames", "1000000",
                           "--pairs", "10", "--seed", "1"], capture_output=True, text=True, timeout=240, env=env)
    assert proc.returncode == 0, proc.stderr
    glob = str(tmp_path / "frames" / "**" / "*.parquet")
    total, distinct, venues = duckdb.sql(
        f"select count(*), count(distinct ingest_seq), count(distinct venue) "
        f"from read_parquet('{glob}', hive_partitioning=true)").fetchall()[0]
    assert (total, distinct, venues) == (1_000_000, 1_000_000, 2)
    kinds = dict(duckdb.sql(f"select kind, count(*) from read_parquet('{glob}') group by kind").fetchall())
    assert kinds["open"] == kinds["out"] == kinds["close"] == 2
    truth = duckdb.sql(f"select count(*), min(cast(gross_edge as decimal(10,4))) "
                       f"from '{tmp_path / 'ground_truth.parquet'}'").fetchall()[0]
    assert truth[0] >= 10 and truth[1] >= Decimal("0.04")


@pytest.mark.parametrize("command", ["serve", "generate"])
def test_an_unusable_folder_is_one_error_line_and_exit_code_2(tmp_path, command):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    option = "--workdir" if command == "serve" else "--out"
    extra = ["--duration", "1"] if command == "serve" else ["--frames", "10"]
    result = CliRunner().invoke(cli, ["sandbox", command, option, str(blocker / "x"), *extra])
    assert result.exit_code == 2
    assert result.output.strip().startswith("Error: cannot use")
    assert "Traceback" not in result.output


@pytest.mark.e2e
def test_serve_prints_each_fault_as_it_fires(tmp_path):
    proc = _start_serve(tmp_path, "--duration", "5", "--faults", "default")
    try:
        urls = _ready_lines(proc)

        async def listen() -> None:
            async with connect(urls["polymarket"]) as ws:
                config = load_config(tmp_path / "arbkit.toml")
                assets = [p.polymarket_yes_token for p in config.pairs]
                await ws.send(orjson.dumps({"type": "market", "assets_ids": assets}).decode())
                deadline = time.monotonic() + 4.5
                while time.monotonic() < deadline:
                    try:
                        await asyncio.wait_for(ws.recv(), deadline - time.monotonic())
                    except TimeoutError:
                        break

        asyncio.run(listen())
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    faults = [line for line in out.splitlines() if line.startswith("fault")]
    # The first default fault on a Polymarket connection: a malformed frame ~3 s after subscribing.
    assert faults and faults[0].split() == ["fault", "polymarket", "connection", "1:", "malformed"], out
