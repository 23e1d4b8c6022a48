"""Recorder behaviour against a fault-free sandbox: hook, sharding, channels, manifest, backoff."""

from __future__ import annotations

import asyncio
import json
import random

import msgspec
import pytest

from arbkit.config import load_config
from arbkit.core.events import KALSHI, POLYMARKET
from arbkit.runner.connections import Backoff, VenueStats
from arbkit.runner.record import Recorder
from arbkit.runner.status import StatusLine
from arbkit.store.reader import iter_frames


def _config(sandbox, **recorder):
    config = load_config(sandbox.config_path)
    return msgspec.structs.replace(config, recorder=msgspec.structs.replace(config.recorder, **recorder))


@pytest.mark.e2e
@pytest.mark.timeout(60)
def test_on_frame_sees_every_recorded_row_in_ingest_order(sandbox, tmp_path):
    seen = []
    recorder = Recorder(_config(sandbox), tmp_path / "rec", duration_s=3.0, on_frame=seen.append)

    summary = asyncio.run(recorder.run())

    recorded = list(iter_frames(tmp_path / "rec"))
    assert len(recorded) > 100
    assert seen == recorded
    assert [f.ingest_seq for f in seen] == list(range(len(seen)))
    assert {f.session_id for f in seen} == {summary.session_id}


@pytest.mark.e2e
@pytest.mark.timeout(60)
def test_polymarket_assets_are_sharded_one_subscription_per_connection(sandbox, tmp_path):
    config = _config(sandbox, assets_per_connection=4)
    assets = [t for p in config.pairs for t in (p.polymarket_yes_token, p.polymarket_no_token)]

    asyncio.run(Recorder(config, tmp_path / "rec", duration_s=3.0).run())

    frames = [f for f in iter_frames(tmp_path / "rec") if f.venue == POLYMARKET]
    subscriptions = {}
    for f in frames:
        if f.kind == "out" and f.payload.startswith(b'{"type":"market"'):
            assert f.conn_id not in subscriptions  # exactly one initial subscription per connection
            subscriptions[f.conn_id] = json.loads(f.payload)["assets_ids"]
    assert sorted(len(a) for a in subscriptions.values()) == [2, 4]
    assert sorted(a for shard in subscriptions.values() for a in shard) == sorted(assets)
    assert all(any(f.kind == "in" and f.conn_id == conn for f in frames) for conn in subscriptions)


@pytest.mark.e2e
@pytest.mark.timeout(60)
def test_configured_ticker_and_trade_channels_get_their_own_subscription(sandbox, tmp_path):
    config = load_config(sandbox.config_path)
    kalshi = msgspec.structs.replace(config.venues.kalshi, channels=["orderbook_delta", "ticker", "trade"],
                                     use_yes_price=True)
    config = msgspec.structs.replace(config, venues=msgspec.structs.replace(config.venues, kalshi=kalshi))

    summary = asyncio.run(Recorder(config, tmp_path / "rec", duration_s=3.0).run())

    frames = [f for f in iter_frames(tmp_path / "rec") if f.venue == KALSHI]
    subscribes = [json.loads(f.payload)["params"] for f in frames if f.kind == "out" and b'"subscribe"' in f.payload]
    assert subscribes[0]["channels"] == ["orderbook_delta"] and subscribes[0]["use_yes_price"] is True
    assert subscribes[1]["channels"] == ["ticker", "trade"] and "use_yes_price" not in subscribes[1]
    assert any(f.kind == "in" and f.payload.startswith(b'{"type":"ticker"') for f in frames)
    manifest = json.loads((tmp_path / "rec" / "sessions" / f"{summary.session_id}.json").read_text())
    assert manifest["config"]["venues"]["kalshi"]["use_yes_price"] is True
    assert "key_id" not in manifest["config"]["venues"]["kalshi"]


@pytest.mark.e2e
@pytest.mark.timeout(60)
def test_an_unreachable_venue_is_retried_with_error_rows_while_the_other_records(sandbox, tmp_path):
    config = load_config(sandbox.config_path)
    poly = msgspec.structs.replace(config.venues.polymarket, ws_url="ws://127.0.0.1:9/ws/market")
    config = msgspec.structs.replace(config, venues=msgspec.structs.replace(config.venues, polymarket=poly))

    summary = asyncio.run(Recorder(config, tmp_path / "rec", duration_s=2.0).run())

    frames = list(iter_frames(tmp_path / "rec"))
    errors = [f for f in frames if f.venue == POLYMARKET and f.kind == "error"]
    assert len(errors) >= 3  # retried fast at first, not given up
    assert [f.conn_id for f in errors] == list(range(1, len(errors) + 1))
    assert summary.frames_in[KALSHI] > 50


def test_backoff_starts_fast_grows_exponentially_and_is_capped():
    backoff = Backoff(0.1, 2.0, random.Random(3))

    delays = [backoff.next_delay() for _ in range(10)]

    assert 0.05 <= delays[0] <= 0.1
    assert 0.1 <= delays[1] <= 0.2 and 0.2 <= delays[2] <= 0.4
    assert all(1.0 <= d <= 2.0 for d in delays[6:])
    backoff.reset()
    assert backoff.next_delay() <= 0.1


def test_status_line_shows_state_rate_frames_reconnects_and_disk_bytes():
    stats = {KALSHI: VenueStats(KALSHI, connections=1, open=1), POLYMARKET: VenueStats(POLYMARKET, connections=2, open=1)}
    line = StatusLine(stats, lambda: 3 * 1024 * 1024)
    stats[KALSHI].frames_in = 1200
    stats[POLYMARKET].reconnects = 2

    text = line.render()

    assert text.startswith("disk 3.0 MB")
    assert "kalshi open" in text and "1,200 frames" in text
    assert "polymarket 1/2 open" in text and "2 reconnects" in text


@pytest.mark.e2e
@pytest.mark.timeout(60)
def test_record_final_status_line_and_summary_agree_on_bytes_on_disk(sandbox, tmp_path, run_arbkit):
    done = run_arbkit("record", "--config", str(sandbox.config_path), "--out", str(tmp_path / "rec"),
                      "--duration", "2")

    assert done.returncode == 0, done.stderr.decode()
    final = [line for line in done.stderr.decode().splitlines() if line.startswith("record: ")][-1]
    summary = done.stdout.decode().strip().splitlines()[-1]
    disk = final.split(" · ")[0].removeprefix("record: ")
    assert "stopped" in final and disk.startswith("disk ")
    assert f"; {disk} (" in summary, (final, summary)
