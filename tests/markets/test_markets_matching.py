"""Matching on fixture sets with known true pairs and look-alike decoys."""

from __future__ import annotations

import datetime as dt
import json

from markets_helpers import fixture_set, gamma_markets, kalshi_markets, precision_recall, wrong_first_ranks

from arbkit.markets import DEFAULT_MIN_SCORE, match
from arbkit.markets.match import (
    FLAG_CLOSED, FLAG_DATE, FLAG_DIRECTION, FLAG_NEG_RISK, FLAG_NON_BINARY, FLAG_PLACEHOLDER, FLAG_RULES,
    FLAG_SUBJECT, FLAG_THRESHOLD, Idf, score_pair,
)
from arbkit.sandbox.rest import Catalogue, json_body
from arbkit.sandbox.scenario import Scenario, ScenarioConfig

NOW = dt.datetime(2027, 1, 2, tzinfo=dt.timezone.utc)


def _candidates(result, ticker):
    return {c.polymarket.title: c for c in result.ranked[ticker]}


def test_fixture_ranks_every_true_pair_first_with_its_orientation_and_prints_precision_recall():
    kalshi, poly, truth = fixture_set()

    result = match(kalshi, poly, now=NOW)

    precision, recall = precision_recall(result, truth)
    print(f"\nfixture: {len(truth)} true pairs among {len(kalshi)} Kalshi and {len(poly)} Polymarket markets; "
          f"at min score {DEFAULT_MIN_SCORE}: precision {precision:.3f}, recall {recall:.3f}")
    assert wrong_first_ranks(result, truth) == []
    assert (precision, recall) == (1.0, 1.0)


def test_fixture_decoys_carry_the_flag_of_their_trap():
    kalshi, poly, _ = fixture_set()

    result = match(kalshi, poly, now=NOW, per_market=20)

    btc = _candidates(result, "KXBTCD-27JAN3117-T119999.99")
    assert FLAG_DIRECTION in btc["Will Bitcoin dip below $120k on January 31?"].flags
    assert FLAG_THRESHOLD in btc["Will Bitcoin reach $130k in January?"].flags
    assert FLAG_DATE in btc["Will Bitcoin be above $120k on February 28?"].flags
    closed = [c for c in result.ranked["KXBTCD-27JAN3117-T119999.99"] if c.polymarket.status != "open"]
    assert closed and all(FLAG_CLOSED in c.flags for c in closed)
    nfl = _candidates(result, "KXNFLGAME-27JAN10DETCIN-CIN")
    assert FLAG_SUBJECT in nfl["Bengals vs. Steelers"].flags  # the team's other game: another opponent
    epl = _candidates(result, "KXEPLGAME-27JAN16ARSCHE-ARS")
    assert FLAG_SUBJECT in epl["Will Chelsea win on 2027-01-16?"].flags  # the other team
    assert FLAG_NON_BINARY in epl["Arsenal vs. Chelsea"].flags  # Arsenal / Draw / Chelsea
    assert FLAG_NEG_RISK in epl["Will Arsenal win on 2027-01-16?"].flags
    nominee = _candidates(result, "KXPRESNOMD-28-GNEW")
    other = nominee.get("Will another person win the 2028 Democratic presidential nomination?")
    assert other is None or FLAG_PLACEHOLDER in other.flags


def test_named_outcomes_orient_by_label_whatever_their_order():
    kalshi, poly, truth = fixture_set()
    nfl_k = next(m for m in kalshi if m.id == "KXNFLGAME-27JAN10DETCIN-CIN")
    nfl_p = next(m for m in poly if m.title == "Lions vs. Bengals")
    swapped = type(nfl_p)(**{**nfl_p.__dict__, "outcomes": tuple(reversed(nfl_p.outcomes))})

    for market in (nfl_p, swapped):
        cand = score_pair(nfl_k, market, _idf(kalshi, poly), now=NOW)
        # Kalshi YES (Cincinnati) pays with the "Bengals" token: the description names them the
        # Cincinnati Bengals; the label's position does not matter.
        assert cand.orientation.yes.label == "Bengals"
        assert (cand.orientation.yes.token, cand.orientation.no.token) == truth[nfl_k.id]


def test_no_yes_outcome_order_takes_the_yes_token_from_its_label():
    kalshi, poly, truth = fixture_set()
    gta_k = next(m for m in kalshi if m.id == "KXGTA6-27JUN")
    gta_p = next(m for m in poly if m.title == "GTA VI released before June 2027?")
    assert [o.label for o in gta_p.outcomes] == ["No", "Yes"]

    cand = score_pair(gta_k, gta_p, _idf(kalshi, poly), now=NOW)

    assert cand.orientation.yes.label == "Yes" and cand.orientation.yes.token == gta_p.outcomes[1].token
    assert (cand.orientation.yes.token, cand.orientation.no.token) == truth["KXGTA6-27JUN"]


def test_rules_naming_another_deadline_are_flagged_and_rank_below_the_true_pair():
    scenario = Scenario(ScenarioConfig(pairs=3, seed=5, epoch_ms=1_790_000_000_000))
    kalshi, poly = _sandbox_markets(scenario)
    ticker = scenario.pairs[2].kalshi_ticker  # theme 2: an announcement with a look-alike

    result = match(kalshi, poly, now=_epoch(scenario), per_market=5)

    best, second = result.ranked[ticker][:2]
    assert best.polymarket.title == second.polymarket.title  # same words, same close time
    assert best.orientation.yes.token == scenario.pairs[2].polymarket_yes_token
    assert FLAG_RULES in second.flags and FLAG_RULES not in best.flags


def test_sandbox_catalogue_ranks_every_scenario_pair_first_and_prints_precision_recall():
    scenario = Scenario(ScenarioConfig(pairs=40, seed=11, epoch_ms=1_790_000_000_000))
    kalshi, poly = _sandbox_markets(scenario)
    truth = {p.kalshi_ticker: (p.polymarket_yes_token, p.polymarket_no_token) for p in scenario.pairs}

    result = match(kalshi, poly, now=_epoch(scenario))

    precision, recall = precision_recall(result, truth)
    print(f"\nsandbox catalogue: {len(truth)} true pairs among {len(kalshi)} Kalshi and {len(poly)} Polymarket "
          f"markets; at min score {DEFAULT_MIN_SCORE}: precision {precision:.3f}, recall {recall:.3f}")
    assert wrong_first_ranks(result, truth) == []
    assert (precision, recall) == (1.0, 1.0)


def _epoch(scenario: Scenario) -> dt.datetime:
    return dt.datetime.fromtimestamp(scenario.config.epoch_ms / 1000, dt.timezone.utc)


def _sandbox_markets(scenario: Scenario):
    from decimal import Decimal

    listing = Catalogue(scenario).listing
    # Through the sandbox's own JSON encoding, as a client would receive it.
    wire = json.loads(json_body({"k": listing.kalshi_events, "s": listing.kalshi_series, "g": listing.gamma_events}),
                      parse_float=Decimal)
    return kalshi_markets(wire["k"], wire["s"]), gamma_markets(wire["g"])


def _idf(kalshi, poly):
    return Idf.of(list(kalshi) + list(poly))
