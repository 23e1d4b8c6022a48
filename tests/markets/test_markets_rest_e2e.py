"""`arbkit markets` against the sandbox's REST endpoints over real HTTP on loopback."""

from __future__ import annotations

import datetime as dt
import json
import re
import socket
import time
import urllib.request
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from arbkit.cli import cli
from arbkit.config import load_config
from arbkit.markets import RestClient, RetryPolicy, connect, fetch, match
from arbkit.markets.gamma import GammaRest
from arbkit.markets.http import ResponseCache
from arbkit.markets.kalshi import KalshiRest
from arbkit.markets.match import FLAG_NEG_RISK, FLAG_PLACEHOLDER, Idf, score_pair
from arbkit.sandbox import SandboxThread
from arbkit.sandbox.rest import FAULT_MALFORMED, FAULT_RATE_LIMIT, FAULT_SERVER_ERROR, FAULT_SLOW

pytestmark = pytest.mark.e2e

PAIRS = 10
FAST = RetryPolicy(attempts=3, timeout_s=5.0, backoff_initial_s=0.05, backoff_max_s=0.2)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    with SandboxThread(tmp_path_factory.mktemp("sb"), pairs=PAIRS, seed=0, faults="none", paced=False) as sb:
        yield sb.sandbox


def _now(sandbox) -> dt.datetime:
    return dt.datetime.fromtimestamp(sandbox.scenario.config.epoch_ms / 1000, dt.timezone.utc)


def _client(sandbox, venue: str, tmp_path: Path | None = None, **kwargs) -> RestClient:
    url = sandbox.kalshi_rest_url if venue == "kalshi" else sandbox.polymarket_rest_url
    cache = ResponseCache(tmp_path) if tmp_path else None
    return RestClient(venue, url, cache, policy=kwargs.pop("policy", FAST), **kwargs)


def _cli(*args: str):
    return CliRunner().invoke(cli, ["markets", *args])


def _one_line_error(result, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_listings_take_more_than_one_page_on_both_venues_and_lose_nothing(sandbox):
    before = dict(sandbox.rest.requests)
    paged_k = KalshiRest(_client(sandbox, "kalshi"), events_page=3).open_markets(["KXSANDBOX"])
    paged_p = GammaRest(_client(sandbox, "polymarket"), page=4).open_markets()
    pages_k = sandbox.rest.requests["kalshi"] - before["kalshi"]
    pages_p = sandbox.rest.requests["polymarket"] - before["polymarket"]

    whole_k = KalshiRest(_client(sandbox, "kalshi")).open_markets(["KXSANDBOX"])
    whole_p = GammaRest(_client(sandbox, "polymarket")).open_markets()

    assert pages_k >= 1 + PAIRS // 3 and pages_p >= 1 + len(whole_p) // 8  # /series/{t} + event pages
    assert [m.id for m in paged_k] == [m.id for m in whole_k]
    assert [m.id for m in paged_p] == [m.id for m in whole_p]
    assert {p.kalshi_ticker for p in sandbox.scenario.pairs} <= {m.id for m in whole_k}


def test_kalshi_markets_by_ticker_follow_the_cursor(sandbox):
    tickers = [p.kalshi_ticker for p in sandbox.scenario.pairs]
    client = _client(sandbox, "kalshi")

    found = KalshiRest(client, markets_page=3).markets_by_ticker(tickers)

    assert sorted(found) == sorted(tickers)
    listing_pages = -(-PAIRS // 3)
    assert client.requests >= listing_pages + 1  # the pages, then each market's event and series
    assert {m.event_title for m in found.values()} and all(m.fees.rate == Decimal(1) for m in found.values())


def test_gamma_string_encoded_fields_are_decoded_and_fees_come_from_both_venues(sandbox):
    raw = json.loads(urllib.request.urlopen(sandbox.polymarket_rest_url + "/markets?limit=1", timeout=5).read())
    assert isinstance(raw[0]["outcomes"], str) and isinstance(raw[0]["clobTokenIds"], str)

    kalshi, poly = fetch(connect(load_config(sandbox.config_path), policy=FAST, cache_dir=None))

    first = next(m for m in poly if m.id == raw[0]["id"])
    assert [o.label for o in first.outcomes] == json.loads(raw[0]["outcomes"])
    assert [o.token for o in first.outcomes] == json.loads(raw[0]["clobTokenIds"])
    assert all(m.fees.rate == Decimal("0.03") and m.fees.kind for m in poly)
    by_series = {m.series: m.fees for m in kalshi}
    assert by_series["KXSANDBOX"].kind == "quadratic" and by_series["KXSANDBOX"].rate == Decimal(1)
    assert by_series["KXSBGAME"].kind == "quadratic_with_maker_fees" and by_series["KXSBGAME"].rate == Decimal("0.5")
    assert {m.tick_size for m in kalshi} == {Decimal("0.01")} == {m.tick_size for m in poly}


def test_no_yes_outcome_order_over_http_pairs_the_kalshi_yes_with_the_yes_token(sandbox):
    spec = sandbox.scenario.pairs[2]  # theme 2 lists outcomes as ["No","Yes"]
    raw = json.loads(urllib.request.urlopen(
        f"{sandbox.polymarket_rest_url}/markets?clob_token_ids={spec.polymarket_yes_token}", timeout=5).read())
    assert json.loads(raw[0]["outcomes"]) == ["No", "Yes"]
    assert json.loads(raw[0]["clobTokenIds"])[0] == spec.polymarket_no_token

    kalshi, poly = fetch(connect(load_config(sandbox.config_path), policy=FAST, cache_dir=None), series=["KXSANDBOX"])
    result = match(kalshi, poly, now=_now(sandbox))

    best = result.ranked[spec.kalshi_ticker][0]
    assert (best.orientation.yes.token, best.orientation.no.token) == (spec.polymarket_yes_token,
                                                                        spec.polymarket_no_token)


def test_neg_risk_members_are_flagged_and_the_placeholder_is_never_paired(sandbox):
    kalshi, poly = fetch(connect(load_config(sandbox.config_path), policy=FAST, cache_dir=None), series=["KXSANDBOX"])
    result = match(kalshi, poly, now=_now(sandbox))
    fed, election = sandbox.scenario.pairs[3], sandbox.scenario.pairs[4]

    assert FLAG_NEG_RISK in result.ranked[fed.kalshi_ticker][0].flags
    other = next(m for m in poly if m.neg_risk and m.subject == "Other")
    k_election = next(m for m in kalshi if m.id == election.kalshi_ticker)
    cand = score_pair(k_election, other, Idf.of(kalshi + poly), now=_now(sandbox))
    assert FLAG_PLACEHOLDER in cand.flags and cand.blocked
    assert other.id not in {c.polymarket.id for c in result.pairs}


def test_a_429_waits_the_retry_after_the_venue_sent(sandbox):
    waits: list[float] = []
    client = _client(sandbox, "kalshi", sleep=lambda s: (waits.append(s), time.sleep(s)))
    sandbox.rest.inject("kalshi", FAULT_RATE_LIMIT, retry_after=1)

    fetched = client.get_json("/series/KXSANDBOX")

    assert waits == [1.0] and client.requests == 2
    assert fetched.data["series"]["ticker"] == "KXSANDBOX"


def test_a_5xx_is_retried_with_backoff(sandbox):
    client = _client(sandbox, "polymarket")
    sandbox.rest.inject("polymarket", FAULT_SERVER_ERROR)

    fetched = client.get_json("/events", {"limit": 1})

    assert client.requests == 2 and isinstance(fetched.data, list)


def test_a_venue_that_times_out_is_one_line_and_exit_2(sandbox, tmp_path):
    sandbox.rest.inject("kalshi", FAULT_SLOW, times=2, delay_s=1.5)

    result = _cli("match", "--config", str(sandbox.config_path), "--cache-dir", str(tmp_path),
                  "--timeout", "0.3", "--retries", "1")

    _one_line_error(result, "kalshi REST unreachable", "timed out after 0.3 s", "2 attempts")
    time.sleep(1.5)  # let the sandbox finish the slow answers before the next test


def test_a_malformed_response_is_one_line_and_exit_2(sandbox, tmp_path):
    sandbox.rest.inject("polymarket", FAULT_MALFORMED)

    result = _cli("match", "--config", str(sandbox.config_path), "--cache-dir", str(tmp_path))

    _one_line_error(result, "polymarket REST: malformed response", "not JSON")


def test_an_unreachable_venue_is_one_line_and_exit_2(sandbox, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once the socket closes
    config = tmp_path / "arbkit.toml"
    config.write_text(f'[venues.kalshi]\nrest_url = "http://127.0.0.1:{port}/trade-api/v2"\n')

    result = _cli("search", "bitcoin", "--venue", "kalshi", "--config", str(config), "--cache-dir",
                  str(tmp_path / "c"), "--retries", "1")

    _one_line_error(result, "kalshi REST unreachable", f"127.0.0.1:{port}")


def test_match_write_reproduces_the_sandbox_pairs_and_replay_reads_the_file_unchanged(sandbox, tmp_path):
    pairs_path = tmp_path / "pairs.toml"

    result = _cli("match", "--config", str(sandbox.config_path), "--cache-dir", str(tmp_path / "cache"),
                  "--page-size", "4", "--write", str(pairs_path))

    assert result.exit_code == 0, result.output
    written = load_config(pairs_path).pairs
    own = load_config(sandbox.config_path).pairs

    def key(p):
        return (p.kalshi_ticker, p.polymarket_yes_token, p.polymarket_no_token, p.kalshi_fee_multiplier,
                p.polymarket_fee_rate)

    assert sorted(map(key, written)) == sorted(map(key, own))
    text = pairs_path.read_text()
    assert text.splitlines().count("[[pairs]]") == PAIRS and text.count("\n# check: ") == PAIRS
    assert "Kalshi rules" in text and "Polymarket rules" in text and "by label, not position" in text

    # The same scenario offline (same seed and pair count: same tickers and tokens), replayed with
    # the written file as its config.
    gen = tmp_path / "gen"
    assert CliRunner().invoke(cli, ["sandbox", "generate", "--out", str(gen), "--frames", "3000",
                                    "--pairs", str(PAIRS)]).exit_code == 0
    run = CliRunner().invoke(cli, ["replay", "--from", str(gen), "--config", str(pairs_path),
                                   "--out", str(tmp_path / "run")])
    assert run.exit_code == 0, run.output
    names = {p["name"] for p in json.loads((tmp_path / "run" / "run.json").read_text())["config"]["pairs"]}
    assert names == {p.name for p in written}


def test_offline_rerun_reads_only_the_cache(sandbox, tmp_path):
    online = _cli("match", "--config", str(sandbox.config_path), "--cache-dir", str(tmp_path / "cache"),
                  "--write", str(tmp_path / "a.toml"))
    assert online.exit_code == 0, online.output
    before = dict(sandbox.rest.requests)

    offline = _cli("match", "--config", str(sandbox.config_path), "--cache-dir", str(tmp_path / "cache"),
                   "--offline", "--write", str(tmp_path / "b.toml"))

    assert offline.exit_code == 0, offline.output
    assert sandbox.rest.requests == before

    def tables(path):
        return [line for line in path.read_text().splitlines() if not line.startswith("#")]

    assert tables(tmp_path / "a.toml") == tables(tmp_path / "b.toml")
    empty = _cli("match", "--config", str(sandbox.config_path), "--cache-dir", str(tmp_path / "none"), "--offline")
    _one_line_error(empty, "no cached response", "run once online")


def test_check_reports_orientation_close_time_status_and_fee_changes(tmp_path):
    with SandboxThread(tmp_path / "sb", pairs=5, seed=3, faults="none", paced=False) as thread:
        sb = thread.sandbox
        pairs_path = tmp_path / "pairs.toml"
        args = ["--config", str(sb.config_path), "--cache-dir", str(tmp_path / "cache")]
        assert _cli("match", *args, "--write", str(pairs_path)).exit_code == 0
        same = _cli("check", str(pairs_path), *args)
        assert same.exit_code == 0, same.output
        assert "0 of 5 pair(s) changed" in same.output

        listing = sb.rest.catalogue.listing
        game = sb.scenario.pairs[1]  # theme 1: team-name outcomes
        market = next(m for e in listing.gamma_events for m in e["markets"]
                      if game.polymarket_yes_token in m["clobTokenIds"])
        labels = json.loads(market["outcomes"])
        market["outcomes"] = json.dumps(labels[::-1])  # the venue relabels the tokens
        kalshi_market = next(m for e in listing.kalshi_events for m in e["markets"]
                             if m["ticker"] == sb.scenario.pairs[0].kalshi_ticker)
        kalshi_market["close_time"] = "2030-01-01T00:00:00Z"
        kalshi_market["status"] = "closed"
        listing.kalshi_series["KXSANDBOX"]["fee_multiplier"] = Decimal("0.5")

        changed = _cli("check", str(pairs_path), *args)

    assert changed.exit_code == 1, changed.output
    out = " ".join(changed.output.split())
    assert "orientation" in out and "Kalshi close time was" in out and "Kalshi status was open, now closed" in out
    assert "Kalshi fee multiplier is 0.5" in out
    assert "5 of 5 pair(s) changed" in out  # every pair is in series KXSANDBOX, whose fee changed


def test_sandbox_serve_writes_rest_urls_that_markets_search_uses(tmp_path):
    import signal
    import subprocess
    import sys

    arbkit = str(Path(sys.executable).with_name("arbkit"))
    proc = subprocess.Popen([arbkit, "sandbox", "serve", "--workdir", str(tmp_path / "sb"), "--pairs", "2",
                             "--duration", "60"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        shown = {}
        while "rest" not in shown:
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            name, _, value = line.strip().partition(" ")
            shown[name] = value.strip()
        config = load_config(tmp_path / "sb" / "arbkit.toml")
        assert shown["rest"].split() == [config.venues.kalshi.rest_url, config.venues.polymarket.rest_url]

        found = subprocess.run([arbkit, "markets", "search", "bitcoin", "--config", str(tmp_path / "sb" / "arbkit.toml"),
                                "--cache-dir", str(tmp_path / "cache")], capture_output=True, text=True, timeout=60)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    assert found.returncode == 0, found.stderr
    assert config.pairs[0].kalshi_ticker in found.stdout
    assert "open markets match 'bitcoin'" in found.stderr


def test_written_pairs_appended_to_the_venue_settings_record_from_the_sandbox(sandbox, tmp_path):
    pairs_path = tmp_path / "pairs.toml"
    assert _cli("match", "--config", str(sandbox.config_path), "--cache-dir", str(tmp_path / "cache"),
                "--write", str(pairs_path)).exit_code == 0
    # The sandbox's own config without its [[pairs]], then the written file as it is.
    venues = sandbox.config_path.read_text().split("\n[[pairs]]\n", 1)[0]
    config = sandbox.config_path.with_name("with-written-pairs.toml")
    config.write_text(venues + "\n" + pairs_path.read_text())

    result = CliRunner().invoke(cli, ["record", "--config", str(config), "--out", str(tmp_path / "rec"),
                                      "--duration", "2"])

    assert result.exit_code == 0, result.output
    manifest = json.loads(next((tmp_path / "rec" / "sessions").glob("*.json")).read_text())
    recorded = {p["kalshi_ticker"]: p["polymarket_yes_token"] for p in manifest["config"]["pairs"]}
    assert recorded == {p.kalshi_ticker: p.polymarket_yes_token for p in sandbox.scenario.pairs}
    counts = re.search(r"frames in kalshi ([\d,]+), polymarket ([\d,]+)", result.output)
    assert counts and all(int(n.replace(",", "")) > 0 for n in counts.groups()), result.output


def test_date_limits_both_venues_to_markets_closing_that_day(sandbox, tmp_path):
    first = _now(sandbox).date() + dt.timedelta(days=2)  # k = 0 of every theme but the Fed's monthly one
    pairs_path = tmp_path / "pairs.toml"

    result = _cli("match", "--config", str(sandbox.config_path), "--cache-dir", str(tmp_path / "cache"),
                  "--date", first.isoformat(), "--close-tolerance", "6", "--write", str(pairs_path))

    assert result.exit_code == 0, result.output
    written = {p.kalshi_ticker for p in load_config(pairs_path).pairs}
    assert written == {sandbox.scenario.pairs[i].kalshi_ticker for i in (0, 1, 2, 4)}
    _one_line_error(_cli("match", "--config", str(sandbox.config_path), "--date", "tomorrow"), "--date")
