"""The sandbox's REST endpoints: Kalshi market discovery and Polymarket Gamma, from the scenario.

Every scenario pair is listed on both venues with a believable market behind it, and around the
pairs sit the decoys a matcher must not take (PROTOCOLS §1.11, §4.1; the traps of issue 13):

    theme 0  price threshold   Yes/No; decoys: the opposite direction at the same strike, the same
                               strike on another date, a neighbouring strike; a Kalshi strike no
                               Polymarket market lists
    theme 1  game winner       outcomes are team names (either order); decoys: the team's game
                               against another opponent, a totals market (Over/Under), a Kalshi
                               game Polymarket does not list
    theme 2  announcement      outcomes `["No","Yes"]` (token order follows); decoys: the same
                               title with rules naming another deadline, a closed and resolved
                               copy from an earlier period
    theme 3  Fed decision      neg-risk event of rate buckets; decoys: the sibling buckets
    theme 4  election          neg-risk event of candidates; decoys: the other candidates and the
                               "Other" placeholder

So `arbkit markets match --write` against the sandbox reproduces the sandbox's own pairs (its
`arbkit.toml`) with the same orientation. Listings paginate as the venues do: Kalshi by opaque
cursor (`/events`, `/markets`), Gamma by `limit`/`offset`; Gamma's `outcomes`, `outcomePrices`
and `clobTokenIds` are JSON-encoded strings. `inject()` scripts faults for the next requests:
`rate_limit` (429 with Retry-After), `slow` (answers after a delay), `malformed` (a truncated
body), `server_error` (503).
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import random
import urllib.parse
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal
from http import HTTPStatus

from websockets.datastructures import Headers
from websockets.http11 import Response

from arbkit.sandbox.scenario import PairSpec, Scenario

KALSHI_PREFIX = "/trade-api/v2"
SERIES = "KXSANDBOX"
OTHER_SERIES = "KXSBGAME"  # the games Polymarket does not list; maker-fee series at 0.5
KALSHI_EVENTS_MAX = 200
KALSHI_MARKETS_MAX = 1000
KALSHI_DEFAULT_LIMIT = 100
GAMMA_MAX = 500
GAMMA_DEFAULT_LIMIT = 20
THEMES = 5

FAULT_RATE_LIMIT = "rate_limit"
FAULT_SLOW = "slow"
FAULT_MALFORMED = "malformed"
FAULT_SERVER_ERROR = "server_error"

_ASSETS = (("Bitcoin", 100_000, 1_000), ("Ethereum", 4_000, 100), ("Solana", 200, 10), ("XRP", 6, 1))
_TEAMS = ("Boston Celtics", "Miami Heat", "Denver Nuggets", "Phoenix Suns", "Chicago Bulls",
          "Dallas Mavericks", "Atlanta Hawks", "Toronto Raptors", "Utah Jazz", "Orlando Magic",
          "Detroit Pistons", "Memphis Grizzlies", "Sacramento Kings", "Portland Trail Blazers")
_KALSHI_ONLY_TEAMS = ("Seattle Kraken", "Vegas Golden Knights", "Winnipeg Jets", "Calgary Flames",
                      "Ottawa Senators", "Nashville Predators")
_ANNOUNCEMENTS = (("OpenAI", "release GPT-6"), ("Apple", "announce a foldable iPhone"),
                  ("SpaceX", "land Starship on the Moon"), ("Nintendo", "announce a new console"),
                  ("Netflix", "raise its standard plan price"))
_CITIES = ("Springfield", "Riverton", "Lakewood", "Fairview", "Greenville", "Oakdale")
_CANDIDATES = ("Maria Alvarez", "James Okafor", "Lena Fischer", "Tom Whitaker", "Priya Raman",
               "Victor Hale", "Grace Kim", "Omar Haddad")
_FED_BUCKETS = (("50+ bps decrease", "decrease interest rates by 50+ bps"),
                ("25 bps decrease", "decrease interest rates by 25 bps"),
                ("No change", "make no change to interest rates"),
                ("25+ bps increase", "increase interest rates by 25+ bps"))


def _iso(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _day(when: dt.datetime) -> str:
    return f"{when:%b} {when.day}, {when.year}"


@dataclass
class _Listing:
    """What the sandbox lists: Kalshi series/events/markets and Gamma events/markets."""

    kalshi_series: dict[str, dict] = field(default_factory=dict)
    kalshi_events: list[dict] = field(default_factory=list)  # each with its "markets"
    gamma_events: list[dict] = field(default_factory=list)  # each with its "markets"


class Catalogue:
    """The REST view of a scenario: pairs on both venues plus decoys, deterministic in the seed."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        cfg = scenario.config
        # Which listed markets the scenario quotes sub-penny / fractionally (fidelity options).
        self._subpenny = {t for p in scenario.pairs[:cfg.subpenny_pairs]
                          for t in (p.kalshi_ticker, p.polymarket_yes_token, p.polymarket_no_token)}
        self._fractional = {p.kalshi_ticker for p in scenario.pairs[:cfg.fractional_pairs]}
        self._rng = random.Random(f"sandbox-rest:{cfg.seed}")
        self._gamma_id = 900_000 + (cfg.seed % 1000) * 10_000
        start = dt.datetime.fromtimestamp(cfg.epoch_ms / 1000, dt.timezone.utc)
        self.start = start
        self._base = start.replace(hour=0, minute=0, second=0, microsecond=0)
        self.listing = _Listing()
        self.listing.kalshi_series[SERIES] = {
            "ticker": SERIES, "title": "Sandbox markets", "category": "Sandbox", "frequency": "custom",
            "fee_type": "quadratic", "fee_multiplier": Decimal(cfg.kalshi_fee_multiplier),
            "settlement_sources": [{"name": "arbkit sandbox", "url": "http://127.0.0.1/"}], "tags": [],
        }
        self.listing.kalshi_series[OTHER_SERIES] = {
            "ticker": OTHER_SERIES, "title": "Sandbox games", "category": "Sports", "frequency": "custom",
            "fee_type": "quadratic_with_maker_fees", "fee_multiplier": Decimal("0.5"),
            "settlement_sources": [], "tags": ["Basketball"],
        }
        for spec in scenario.pairs:
            # k numbers the pairs of one theme; each gets its own date (its own month for the Fed),
            # so no two pairs are the same market and every decoy differs from every pair.
            k = spec.index // THEMES
            build = (self._threshold, self._game, self._announcement, self._fed, self._election)[spec.index % THEMES]
            build(spec, k, self._base + dt.timedelta(days=2 + k, hours=20))

    # ---- builders ----------------------------------------------------------------------

    def _token(self) -> str:
        return str(self._rng.getrandbits(252) | (1 << 251))

    def _condition(self) -> str:
        return "0x%064x" % self._rng.getrandbits(256)

    def _next_gamma_id(self) -> str:
        self._gamma_id += 1
        return str(self._gamma_id)

    def _kalshi_event(self, spec: PairSpec, title: str, sub_title: str, *, suffix: str = "",
                      series: str = SERIES) -> dict:
        event = {"event_ticker": f"{SERIES}-S{self.scenario.config.seed}-E{spec.index:03d}{suffix}",
                 "series_ticker": series, "title": title, "sub_title": sub_title, "category": "Sandbox",
                 "mutually_exclusive": False, "strike_period": "", "markets": []}
        self.listing.kalshi_events.append(event)
        return event

    def _kalshi_market(self, event: dict, ticker: str, title: str, yes_sub: str, no_sub: str,
                       when: dt.datetime, rules: str, secondary: str = "") -> None:
        close = when + dt.timedelta(hours=3)
        event["markets"].append({
            "ticker": ticker, "event_ticker": event["event_ticker"], "market_type": "binary",
            "title": title, "subtitle": yes_sub, "yes_sub_title": yes_sub, "no_sub_title": no_sub,
            "status": "active", "open_time": _iso(self.start - dt.timedelta(days=30)),
            "close_time": _iso(close), "expected_expiration_time": _iso(close),
            "expiration_time": _iso(close + dt.timedelta(days=7)),
            "latest_expiration_time": _iso(close + dt.timedelta(days=7)),
            "occurrence_datetime": _iso(when),
            "yes_bid_dollars": "0.4800", "yes_ask_dollars": "0.5000", "no_bid_dollars": "0.5000",
            "no_ask_dollars": "0.5200", "last_price_dollars": "0.4900", "volume_fp": "1200.00",
            "open_interest_fp": "800.00", "notional_value_dollars": "1.0000",
            "price_level_structure": "deci_cent" if ticker in self._subpenny else "linear_cent",
            "price_ranges": [{"start": "0.0000", "end": "1.0000",
                              "step": "0.0010" if ticker in self._subpenny else "0.0100"}],
            "fractional_trading_enabled": ticker in self._fractional, "strike_type": "structured",
            "rules_primary": rules, "rules_secondary": secondary, "result": "",
            "settlement_timer_seconds": 60, "can_close_early": True, "response_price_units": "usd_cent",
        })

    def _gamma_event(self, title: str, slug: str, when: dt.datetime, *, neg_risk: bool = False,
                     description: str = "", closed: bool = False) -> dict:
        event = {"id": self._next_gamma_id(), "ticker": slug, "slug": slug, "title": title,
                 "description": description, "startDate": _iso(self.start - dt.timedelta(days=30)),
                 "endDate": _iso(when), "active": True, "closed": closed, "archived": False,
                 "negRisk": neg_risk, "enableOrderBook": True, "markets": []}
        if neg_risk:
            event["negRiskMarketID"] = self._condition()
        self.listing.gamma_events.append(event)
        return event

    def _gamma_market(self, event: dict, question: str, outcomes: list[tuple[str, str]], when: dt.datetime,
                      description: str, *, group: str = "", fee_type: str = "sports_fees_v2",
                      closed: bool = False, condition: str | None = None) -> None:
        labels = [label for label, _ in outcomes]
        prices = ["0.5", "0.5"] if len(outcomes) == 2 else [str(round(1 / len(outcomes), 3))] * len(outcomes)
        event["markets"].append({
            "id": self._next_gamma_id(), "question": question, "conditionId": condition or self._condition(),
            "questionID": self._condition(), "slug": event["slug"] + "-" + str(len(event["markets"])),
            "endDate": _iso(when), "endDateIso": when.date().isoformat(),
            "startDate": _iso(self.start - dt.timedelta(days=30)),
            "description": description,
            # JSON-encoded strings, as Gamma sends them.
            "outcomes": json.dumps(labels), "outcomePrices": json.dumps(prices),
            "clobTokenIds": json.dumps([token for _, token in outcomes]),
            "umaResolutionStatuses": json.dumps(["resolved"] if closed else []),
            "active": True, "closed": closed, "archived": False, "acceptingOrders": not closed,
            "enableOrderBook": True, "orderMinSize": 5,
            "orderPriceMinTickSize": Decimal("0.001" if outcomes[0][1] in self._subpenny else "0.01"),
            "negRisk": event["negRisk"], "groupItemTitle": group,
            "feesEnabled": True, "feeType": fee_type,
            "feeSchedule": {"exponent": 1, "rate": Decimal(self.scenario.config.polymarket_fee_rate),
                            "takerOnly": True, "rebateRate": Decimal("0.25")},
            "makerBaseFee": 1000, "takerBaseFee": 1000,
            "liquidity": "12000.5", "volume": "48000.25", "liquidityNum": Decimal("12000.5"),
            "volumeNum": Decimal("48000.25"), "bestBid": Decimal("0.49"), "bestAsk": Decimal("0.51"),
            "events": [{"id": event["id"], "title": event["title"], "slug": event["slug"],
                        "negRisk": event["negRisk"]}],
        })

    def _yes_no(self, spec: PairSpec | None, order: str = "yes_first") -> list[tuple[str, str]]:
        yes = spec.polymarket_yes_token if spec else self._token()
        no = spec.polymarket_no_token if spec else self._token()
        return [("No", no), ("Yes", yes)] if order == "no_first" else [("Yes", yes), ("No", no)]

    # ---- themes ------------------------------------------------------------------------

    def _threshold(self, spec: PairSpec, k: int, when: dt.datetime) -> None:
        asset, base, step = _ASSETS[k % len(_ASSETS)]
        strike = base + 2 * step * self._rng.randrange(-2, 3)  # pairs on even steps, a decoy on an odd one
        day = _day(when)

        def money(v: int) -> str:
            return f"${v:,}"

        event = self._kalshi_event(spec, f"{asset} price on {day}", f"On {day}")
        rules = (f"If the {asset} reference price is above {money(strike)} at 4pm EDT on {day}, "
                 "then the market resolves to Yes.")
        self._kalshi_market(event, spec.kalshi_ticker, f"Will {asset} be above {money(strike)} on {day}?",
                            f"{money(strike)} or above", f"below {money(strike)}", when, rules)
        sibling = strike + 2 * step
        self._kalshi_market(event, f"{spec.kalshi_ticker}-T{sibling}",
                            f"Will {asset} be above {money(sibling)} on {day}?", f"{money(sibling)} or above",
                            f"below {money(sibling)}", when,
                            rules.replace(money(strike), money(sibling)))

        def poly(question: str, at: dt.datetime, pair: PairSpec | None, value: int, word: str) -> None:
            description = (f"This market will resolve to \"Yes\" if the {asset} price is {word} "
                           f"{money(value)} at 4pm ET on {_day(at)}. Otherwise, it resolves to \"No\".")
            event = self._gamma_event(f"{asset} {word} {money(value)} on {_day(at)}?",
                                      f"{asset.lower()}-{word}-{value}-{at:%Y%m%d}", at)
            self._gamma_market(event, question, self._yes_no(pair), at, description, fee_type="crypto_fees_v2")

        poly(f"Will the price of {asset} be above {money(strike)} on {when:%B} {when.day}?", when, spec,
             strike, "above")
        poly(f"Will the price of {asset} be below {money(strike)} on {when:%B} {when.day}?", when, None,
             strike, "below")
        later = when + dt.timedelta(days=7)
        poly(f"Will the price of {asset} be above {money(strike)} on {later:%B} {later.day}?", later, None,
             strike, "above")
        poly(f"Will the price of {asset} be above {money(strike - step)} on {when:%B} {when.day}?", when, None,
             strike - step, "above")

    def _game(self, spec: PairSpec, k: int, when: dt.datetime) -> None:
        home, away, other = self._rng.sample(_TEAMS, 3)
        x1, x2 = self._rng.sample(_KALSHI_ONLY_TEAMS, 2)
        nick = home.rsplit(" ", 1)[1]
        day = _day(when)
        tie = ("If the game is postponed but begins within 48 hours, the market remains open; "
               "otherwise it resolves to a fair price. A tie resolves to $0.50.")
        event = self._kalshi_event(spec, f"{home} vs {away}", f"{nick} vs {away.rsplit(' ', 1)[1]} ({day})")
        self._kalshi_market(event, spec.kalshi_ticker, f"Will the {home} win the {home} vs {away} game on {day}?",
                            home, away, when,
                            f"If the {home} win the {home} vs {away} professional basketball game "
                            f"originally scheduled for {day}, then the market resolves to Yes.", tie)
        gevent = self._kalshi_event(spec, f"{x1} vs {x2}", day, suffix="X", series=OTHER_SERIES)
        self._kalshi_market(gevent, f"{OTHER_SERIES}-S{self.scenario.config.seed}-E{spec.index:03d}-X",
                            f"Will the {x1} win the {x1} vs {x2} game on {day}?", x1, x2, when,
                            f"If the {x1} win the {x1} vs {x2} game scheduled for {day}, the market "
                            "resolves to Yes.", tie)
        poly_tie = ("If the game is postponed or canceled, or ends in a tie, this market resolves 50-50. "
                    "The resolution source is the league's official statistics.")
        outcomes = [(home, spec.polymarket_yes_token), (away, spec.polymarket_no_token)]
        if self._rng.random() < 0.5:
            outcomes.reverse()  # named outcomes in either order: orientation comes from the label
        slug = f"nba-{nick.lower()}-{when:%Y-%m-%d}"
        pevent = self._gamma_event(f"{home} vs. {away}", slug, when)
        self._gamma_market(pevent, f"{home} vs. {away}", outcomes, when,
                           f"This market refers to the {home} vs. {away} game scheduled for "
                           f"{when:%B} {when.day}. It resolves to the team that wins. {poly_tie}")
        self._gamma_market(pevent, f"{home} vs. {away}: O/U 221.5", [("Over", self._token()),
                                                                    ("Under", self._token())], when,
                           f"Resolves \"Over\" if the {home} vs. {away} game on {when:%B} {when.day} totals "
                           f"more than 221.5 points. {poly_tie}")
        later = when + dt.timedelta(days=3, hours=6)
        oevent = self._gamma_event(f"{home} vs. {other}", f"nba-{nick.lower()}-{later:%Y-%m-%d}", later)
        self._gamma_market(oevent, f"{home} vs. {other}", [(home, self._token()), (other, self._token())], later,
                           f"This market refers to the {home} vs. {other} game scheduled for "
                           f"{later:%B} {later.day}. It resolves to the team that wins. {poly_tie}")

    def _announcement(self, spec: PairSpec, k: int, when: dt.datetime) -> None:
        org, action = _ANNOUNCEMENTS[k % len(_ANNOUNCEMENTS)]
        day = _day(when)
        question = f"Will {org} {action} by {when:%B} {when.day}, {when.year}?"
        event = self._kalshi_event(spec, f"{org}: {action}?", f"By {day}")
        self._kalshi_market(event, spec.kalshi_ticker, question, f"By {day}", f"Not by {day}", when,
                            f"If {org} publicly does {action.split(' ', 1)[1]} ({action}) before 11:59pm ET "
                            f"on {day}, then the market resolves to Yes.")

        def description(deadline: dt.datetime) -> str:
            return (f"This market will resolve to \"Yes\" if {org} officially does {action} by "
                    f"{deadline:%B} {deadline.day}, {deadline.year}, 11:59 PM ET. Otherwise \"No\".")

        pevent = self._gamma_event(question, f"{org.lower()}-{action.split()[0]}-{when:%Y%m%d}", when)
        # ["No","Yes"]: the token order follows the labels, so position 0 is the NO token here.
        self._gamma_market(pevent, question, self._yes_no(spec, "no_first"), when, description(when),
                           fee_type="tech_fees")
        later = when + dt.timedelta(days=45)
        look = self._gamma_event(question, f"{org.lower()}-{action.split()[0]}-{when:%Y%m%d}-b", when)
        self._gamma_market(look, question, self._yes_no(None), when, description(later), fee_type="tech_fees")
        earlier = when - dt.timedelta(days=92)
        old_q = f"Will {org} {action} by {earlier:%B} {earlier.day}, {earlier.year}?"
        old = self._gamma_event(old_q, f"{org.lower()}-{action.split()[0]}-{earlier:%Y%m%d}", earlier, closed=True)
        self._gamma_market(old, old_q, self._yes_no(None), earlier, description(earlier), fee_type="tech_fees",
                           closed=True)

    def _fed(self, spec: PairSpec, k: int, when: dt.datetime) -> None:
        months = self._base.month + k
        when = self._base.replace(year=self._base.year + months // 12, month=months % 12 + 1, day=16, hour=18)
        month = f"{when:%B} {when.year}"
        event = self._kalshi_event(spec, f"Fed decision in {month}", f"{when:%b} {when.year} meeting")
        self._kalshi_market(event, spec.kalshi_ticker, f"Will the Fed cut rates by 25 bps at its {month} meeting?",
                            "Cut 25bps", "Not a 25bps cut", when,
                            f"If the Federal Reserve cuts the federal funds target range by exactly 25 bps "
                            f"at its meeting concluding on {_day(when)}, then the market resolves to Yes.")
        pevent = self._gamma_event(f"Fed decision in {when:%B}?", f"fed-decision-in-{when:%B-%Y}".lower(), when,
                                   neg_risk=True)
        for group, verb in _FED_BUCKETS:
            pair = spec if group == "25 bps decrease" else None
            self._gamma_market(pevent, f"Will the Fed {verb} after the {month} meeting?", self._yes_no(pair), when,
                               f"This market will resolve to \"Yes\" if the Fed {verb} at its meeting "
                               f"ending {when:%B} {when.day}, {when.year}.", group=group, fee_type="economics_fees")

    def _election(self, spec: PairSpec, k: int, when: dt.datetime) -> None:
        city = _CITIES[k % len(_CITIES)]
        names = self._rng.sample(_CANDIDATES, 3)
        winner = names[0]
        ward = k // len(_CITIES)
        office = f"{city} Ward {ward} council election" if ward else f"{city} mayoral election"
        event = self._kalshi_event(spec, f"{city} mayor {when.year}", f"Winner ({_day(when)})")
        self._kalshi_market(event, spec.kalshi_ticker, f"Will {winner} win the {when.year} {office}?", winner,
                            f"Not {winner}", when,
                            f"If {winner} is certified as the winner of the {office} held on {_day(when)}, "
                            "then the market resolves to Yes.")
        pevent = self._gamma_event(f"{city} Mayoral Election Winner", f"{city.lower()}-mayor-{when.year}", when,
                                   neg_risk=True)
        for name in names:
            pair = spec if name == winner else None
            self._gamma_market(pevent, f"Will {name} win the {when.year} {office}?", self._yes_no(pair), when,
                               f"This market will resolve to \"Yes\" if {name} wins the {office} held on "
                               f"{when:%B} {when.day}, {when.year}.", group=name, fee_type="politics_fees")
        self._gamma_market(pevent, f"Will another candidate win the {when.year} {office}?", self._yes_no(None), when,
                           f"This market will resolve to \"Yes\" if a candidate not listed wins the {office} "
                           f"held on {when:%B} {when.day}, {when.year}.", group="Other", fee_type="politics_fees")


# ---- HTTP -----------------------------------------------------------------------------------


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral_value() else int(value)
    raise TypeError(type(value).__name__)


def json_body(data: object) -> bytes:
    """Encode a response as the venues do."""
    # Decimals go out as JSON numbers (a fee multiplier of 0.5 or 1, a tick of 0.01), as the venues send.
    return json.dumps(data, default=_json_default, separators=(",", ":")).encode()


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _offset(cursor: str) -> int | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        return int(raw.split(":", 1)[1]) if raw.startswith("offset:") else None
    except (ValueError, IndexError):
        return None


class _BadRequest(Exception):
    pass


def _int(query: dict[str, list[str]], name: str, default: int, maximum: int) -> int:
    value = query.get(name, [str(default)])[-1]
    if not value.isdigit() or not 0 < int(value) <= maximum:
        raise _BadRequest(f"invalid {name}")
    return int(value)


class SandboxRest:
    """Answers the sandbox's REST requests for both venues, with scriptable faults."""

    def __init__(self, scenario: Scenario) -> None:
        self.catalogue = Catalogue(scenario)
        self._faults: dict[str, deque] = {"kalshi": deque(), "polymarket": deque()}
        self.requests: dict[str, int] = {"kalshi": 0, "polymarket": 0}

    def inject(self, venue: str, fault: str, times: int = 1, **params: float) -> None:
        """Script `fault` for the venue's next `times` requests (rate_limit: retry_after;
        slow: delay_s)."""
        if fault not in (FAULT_RATE_LIMIT, FAULT_SLOW, FAULT_MALFORMED, FAULT_SERVER_ERROR):
            raise ValueError(f"unknown REST fault {fault!r}")
        for _ in range(times):
            self._faults[venue].append((fault, params))

    async def respond(self, venue: str, path: str) -> Response:
        """The HTTP response to GET `path` (with its query) on the venue's server."""
        self.requests[venue] += 1
        fault = self._faults[venue].popleft() if self._faults[venue] else None
        if fault is not None:
            kind, params = fault
            if kind == FAULT_SLOW:
                await asyncio.sleep(params.get("delay_s", 5.0))
            elif kind == FAULT_RATE_LIMIT:
                return _response(HTTPStatus.TOO_MANY_REQUESTS, json_body({"error": {"code": "too_many_requests",
                                 "message": "too many requests"}}),
                                 {"Retry-After": str(params.get("retry_after", 1))})
            elif kind == FAULT_SERVER_ERROR:
                return _response(HTTPStatus.SERVICE_UNAVAILABLE, b"upstream unavailable\n", content_type="text/plain")
        split = urllib.parse.urlsplit(path)
        query = urllib.parse.parse_qs(split.query, keep_blank_values=True)
        try:
            if venue == "kalshi":
                status, data = self._kalshi(split.path, query)
            else:
                status, data = self._gamma(split.path, query)
        except _BadRequest as exc:
            status, data = HTTPStatus.BAD_REQUEST, {"error": {"code": "bad_request", "message": "bad request",
                                                              "details": str(exc)}}
        body = json_body(data)
        if fault is not None and fault[0] == FAULT_MALFORMED:
            body = body[: max(1, len(body) // 2)]
        return _response(status, body)

    # ---- Kalshi ------------------------------------------------------------------------

    def _kalshi(self, path: str, query: dict[str, list[str]]) -> tuple[int, object]:
        listing = self.catalogue.listing
        if not path.startswith(KALSHI_PREFIX + "/"):
            return HTTPStatus.NOT_FOUND, {"error": {"code": "not_found", "message": "not found"}}
        parts = path[len(KALSHI_PREFIX) + 1:].strip("/").split("/")
        if parts == ["series"]:
            return HTTPStatus.OK, {"series": list(listing.kalshi_series.values())}
        if len(parts) == 2 and parts[0] == "series":
            series = listing.kalshi_series.get(parts[1])
            return (HTTPStatus.OK, {"series": series}) if series else _not_found()
        if parts == ["events"]:
            return HTTPStatus.OK, self._kalshi_events(query)
        if len(parts) == 2 and parts[0] == "events":
            for event in listing.kalshi_events:
                if event["event_ticker"] == parts[1]:
                    bare = {k: v for k, v in event.items() if k != "markets"}
                    return HTTPStatus.OK, {"event": bare, "markets": event["markets"]}
            return _not_found()
        if parts == ["markets"]:
            return HTTPStatus.OK, self._kalshi_markets(query)
        if len(parts) == 2 and parts[0] == "markets":
            for market in self._all_kalshi_markets():
                if market["ticker"] == parts[1]:
                    return HTTPStatus.OK, {"market": market}
            return _not_found()
        return _not_found()

    def _all_kalshi_markets(self) -> list[dict]:
        return [m for e in self.catalogue.listing.kalshi_events for m in e["markets"]]

    @staticmethod
    def _status_filter(query: dict[str, list[str]], allowed: tuple[str, ...]) -> str | None:
        status = query.get("status", [""])[-1]
        if status and status not in allowed:
            raise _BadRequest("invalid status filter")
        return status or None

    @staticmethod
    def _page(items: list, query: dict[str, list[str]], default: int, maximum: int) -> tuple[list, str]:
        limit = _int(query, "limit", default, maximum)
        cursor = query.get("cursor", [""])[-1]
        start = 0
        if cursor:
            start = _offset(cursor)
            if start is None:
                raise _BadRequest("invalid cursor")
        page = items[start:start + limit]
        return page, _cursor(start + limit) if start + limit < len(items) else ""

    def _kalshi_events(self, query: dict[str, list[str]]) -> dict:
        status = self._status_filter(query, ("unopened", "open", "closed", "settled"))
        series = query.get("series_ticker", [""])[-1]
        nested = query.get("with_nested_markets", ["false"])[-1] == "true"
        min_close = query.get("min_close_ts", [""])[-1]
        events = []
        for event in self.catalogue.listing.kalshi_events:
            if series and event["series_ticker"] != series:
                continue
            if status and status != "open":
                continue  # every sandbox event is open
            if min_close and min_close.isdigit() and not any(
                    _epoch(m["close_time"]) >= int(min_close) for m in event["markets"]):
                continue
            events.append(event if nested else {k: v for k, v in event.items() if k != "markets"})
        page, cursor = self._page(events, query, KALSHI_DEFAULT_LIMIT, KALSHI_EVENTS_MAX)
        return {"events": page, "cursor": cursor, "milestones": []}

    def _kalshi_markets(self, query: dict[str, list[str]]) -> dict:
        status = self._status_filter(query, ("unopened", "open", "paused", "closed", "settled"))
        tickers = {t for value in query.get("tickers", []) for t in value.split(",") if t}
        event_ticker = query.get("event_ticker", [""])[-1]
        series = query.get("series_ticker", [""])[-1]
        markets = []
        for event in self.catalogue.listing.kalshi_events:
            if series and event["series_ticker"] != series:
                continue
            for market in event["markets"]:
                if tickers and market["ticker"] not in tickers:
                    continue
                if event_ticker and market["event_ticker"] != event_ticker:
                    continue
                if status and status != "open":
                    continue
                markets.append(market)
        page, cursor = self._page(markets, query, KALSHI_DEFAULT_LIMIT, KALSHI_MARKETS_MAX)
        return {"markets": page, "cursor": cursor}

    # ---- Gamma -------------------------------------------------------------------------

    def _gamma(self, path: str, query: dict[str, list[str]]) -> tuple[int, object]:
        parts = path.strip("/").split("/")
        if parts == ["events"]:
            return HTTPStatus.OK, self._gamma_page(self._gamma_filter(self.catalogue.listing.gamma_events, query),
                                                   query)
        if parts == ["markets"]:
            markets = [m for e in self.catalogue.listing.gamma_events for m in e["markets"]]
            tokens = {t for value in query.get("clob_token_ids", []) for t in value.split(",") if t}
            if tokens:
                markets = [m for m in markets if tokens & set(json.loads(m["clobTokenIds"]))]
            ids = set(query.get("id", []))
            if ids:
                markets = [m for m in markets if m["id"] in ids]
            return HTTPStatus.OK, self._gamma_page(self._gamma_filter(markets, query), query)
        if len(parts) == 2 and parts[0] == "markets":
            for event in self.catalogue.listing.gamma_events:
                for market in event["markets"]:
                    if market["id"] == parts[1]:
                        return HTTPStatus.OK, market
        return HTTPStatus.NOT_FOUND, {"type": "not found", "error": "id not found"}

    @staticmethod
    def _gamma_filter(items: list[dict], query: dict[str, list[str]]) -> list[dict]:
        def flag(name: str) -> bool | None:
            value = query.get(name, [""])[-1].lower()
            return {"true": True, "false": False}.get(value)

        closed, active = flag("closed"), flag("active")
        end_min = query.get("end_date_min", [""])[-1]
        end_max = query.get("end_date_max", [""])[-1]
        out = []
        for item in items:
            if closed is not None and bool(item["closed"]) != closed:
                continue
            if active is not None and bool(item["active"]) != active:
                continue
            if end_min and item["endDate"] < end_min.replace("+00:00", "Z"):
                continue
            if end_max and item["endDate"] > end_max.replace("+00:00", "Z"):
                continue
            out.append(item)
        if query.get("ascending", ["true"])[-1].lower() == "false":
            out.reverse()
        return out

    @staticmethod
    def _gamma_page(items: list, query: dict[str, list[str]]) -> list:
        limit = _int(query, "limit", GAMMA_DEFAULT_LIMIT, GAMMA_MAX)
        offset = query.get("offset", ["0"])[-1]
        if not offset.isdigit():
            raise _BadRequest("invalid offset")
        return items[int(offset):int(offset) + limit]


def _epoch(iso: str) -> int:
    return int(dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())


def _not_found() -> tuple[int, dict]:
    return HTTPStatus.NOT_FOUND, {"error": {"code": "not_found", "message": "not found"}}


def _response(status: int, body: bytes, extra: dict[str, str] | None = None,
              content_type: str = "application/json") -> Response:
    headers = Headers([("Content-Type", content_type), ("Content-Length", str(len(body))),
                       ("Connection", "close"), *(extra or {}).items()])
    return Response(int(status), HTTPStatus(status).phrase, headers, body)
