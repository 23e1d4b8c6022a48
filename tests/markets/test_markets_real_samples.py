"""The venue parsers on REST responses captured from the real venues (../shared/samples/real)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from arbkit.markets import DEFAULT_MIN_SCORE, gamma, kalshi
from arbkit.markets.http import error_detail
from arbkit.markets.match import match
from arbkit.markets.model import CLOSED, OPEN, RESOLVED, Fees, Market, Outcome

NOW = dt.datetime(2026, 8, 1, tzinfo=dt.timezone.utc)
NO_FEES = Fees(None, None)


def _load(path):
    return json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)


def test_kalshi_nested_events_parse_with_ticks_times_and_yes_sides(shared_samples):
    real = shared_samples / "real" / "kalshi"
    events = _load(real / "rest_events_nfl_preseason_cockpit.json")["events"]
    events += _load(real / "rest_events_sports_nested_cockpit.json")

    markets = [kalshi.parse_market(m, e, NO_FEES, NOW) for e in events for m in e["markets"]]

    assert len(markets) == 64 + 245
    assert all(m.close_time and m.subject and m.series for m in markets)
    assert {m.tick_size for m in markets} == {Decimal("0.01")}  # price_ranges step "0.0100"
    cin = next(m for m in markets if m.id == "KXNFLGAME-26AUG13DETCIN-CIN")
    assert cin.subject == "Cincinnati" and cin.event_title == "Detroit vs Cincinnati"
    assert "If the game ends in a tie" in cin.rules and cin.status == OPEN


def test_kalshi_series_fee_fields_and_settled_statuses(shared_samples):
    real = shared_samples / "real" / "kalshi"
    payloads = _load(real / "rest_series_fee_fields_cockpit.json")["payloads"]
    fees = {t: kalshi.series_fees(p["series"]) for t, p in payloads.items()}
    settled = _load(real / "rest_markets_settled_cockpit.json")["markets"]

    statuses = {kalshi.parse_market(m, {}, NO_FEES, NOW).status for m in settled}

    assert fees["KXMLBGAME"] == Fees("quadratic_with_maker_fees", Decimal("0.5"))
    assert all(f.rate in (Decimal("0.5"), Decimal(1)) for f in fees.values())
    assert statuses == {CLOSED, RESOLVED}  # finalized -> resolved; closed stays closed
    assert error_detail(b'{"error":{"code":"bad_request","message":"bad request","details":"invalid status filter"}}') \
        == "bad request: invalid status filter"


def test_gamma_markets_decode_string_fields_fees_and_neg_risk(shared_samples):
    real = shared_samples / "real" / "polymarket"
    event = _load(real / "rest_gamma_event_nautilus.json")[0]
    politics = gamma.parse_market(_load(real / "rest_gamma_market_live_negrisk_politics_nautilus.json"), None, NOW)
    moneyline = gamma.parse_market(_load(real / "rest_gamma_market_sports_moneyline_nautilus.json"), None, NOW)
    updown = gamma.parse_market(_load(real / "rest_gamma_market_btc15m_carlosibcu.json")["market"], None, NOW)

    members = [gamma.parse_market(m, event, NOW) for m in event["markets"]]

    assert all(m.neg_risk and [o.label for o in m.outcomes] == ["Yes", "No"] for m in members)
    assert all(m.fees.rate == 0 for m in members)  # feesEnabled false
    assert politics.fees == Fees("politics_fees", Decimal("0.04")) and politics.tick_size == Decimal("0.001")
    assert politics.neg_risk and politics.subject == "Gavin Newsom" and len(politics.outcomes[0].token) >= 74
    assert [o.label for o in moneyline.outcomes] == ["FaZe", "illwill"] and moneyline.status == RESOLVED
    assert moneyline.fees == Fees("sports_fees_v2", Decimal("0.03"))
    assert [o.label for o in updown.outcomes] == ["Up", "Down"] and updown.fees.rate is None  # no feeSchedule


def test_a_known_false_positive_scores_below_the_default_min_score(shared_samples):
    # "OpenAI or Anthropic IPO first?" is not "Anthropic IPO by Dec 31, 2026" (another project
    # paired them at 0.36). Titles and ids are from its snapshot; the close times follow from the
    # ticker (-40: 2040) and the question (Dec 31, 2026).
    snapshot = _load(shared_samples / "real" / "cross" / "nanare_live_with_false_positive_cross_venue.json")
    pair = snapshot["cross_venue"][0]
    k = Market("kalshi", pair["kalshi"]["id"], pair["kalshi"]["title"], "Anthropic", "", "KXOAIANTH-40",
               "", "KXOAIANTH", (Outcome("Yes", "k"), Outcome("No", "k")),
               dt.datetime(2040, 1, 1, tzinfo=dt.timezone.utc), OPEN, "active", "", Fees("quadratic", Decimal(1)),
               Decimal("0.01"), NOW)
    p = Market("polymarket", pair["polymarket"]["id"], pair["polymarket"]["title"], "", "", "", "", "",
               (Outcome("Yes", "y"), Outcome("No", "n")), dt.datetime(2026, 12, 31, tzinfo=dt.timezone.utc), OPEN,
               "active", "", Fees("tech_fees", Decimal("0.04")), Decimal("0.01"), NOW)

    result = match([k], [p], now=NOW)

    assert result.pairs == []
    assert result.ranked[k.id][0].score < DEFAULT_MIN_SCORE
