"""Polymarket Gamma API market discovery (PROTOCOLS §4.1): events and markets, offset paging."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from decimal import Decimal

from arbkit.markets.http import Fetched, RestClient, VenueError
from arbkit.markets.model import (
    CLOSED, OPEN, POLYMARKET, RESOLVED, UPCOMING, Fees, Market, Outcome, parse_time, to_decimal,
)

PAGE = 100
TOKENS_PER_QUERY = 40


def _string_list(market: dict, key: str) -> list[str]:
    # Gamma sends these as JSON-encoded strings: "outcomes": "[\"Yes\", \"No\"]".
    value = market.get(key)
    if value is None or value == "":
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ValueError(f"`{key}` is not a JSON-encoded list: {value[:60]!r}") from None
    if not isinstance(value, list):
        raise ValueError(f"`{key}` is not a list")
    return [str(v) for v in value]


def _fees(market: dict) -> Fees:
    kind = market.get("feeType")
    enabled = market.get("feesEnabled")
    schedule = market.get("feeSchedule")
    rate = to_decimal(schedule.get("rate")) if isinstance(schedule, dict) else None
    if enabled is False:
        rate = Decimal(0)
    # makerBaseFee/takerBaseFee (e.g. 1000) are legacy fields, not today's rate (PROTOCOLS §4.1).
    return Fees(str(kind) if kind else None, rate)


def _status(market: dict) -> tuple[str, str]:
    resolution = _string_list(market, "umaResolutionStatuses")
    if market.get("closed"):
        resolved = "resolved" in resolution or market.get("umaResolutionStatus") == "resolved"
        return (RESOLVED if resolved else CLOSED), "closed"
    if market.get("archived"):
        return CLOSED, "archived"
    if market.get("active") is False:
        return UPCOMING, "inactive"
    return OPEN, "active"


def parse_market(market: dict, event: dict | None, fetched_at: dt.datetime) -> Market:
    """A Gamma market object (with its event, when known) as a `Market`."""
    event = event or {}
    if not event:
        nested = market.get("events")
        if isinstance(nested, list) and nested and isinstance(nested[0], dict):
            event = nested[0]
    market_id = str(market.get("id") or "")
    if not market_id:
        raise ValueError("market without id")
    labels = _string_list(market, "outcomes")
    tokens = _string_list(market, "clobTokenIds")
    if len(labels) != len(tokens):
        raise ValueError(f"market {market_id}: {len(labels)} outcomes but {len(tokens)} clobTokenIds")
    prices = [to_decimal(p) for p in _string_list(market, "outcomePrices")]
    if len(prices) != len(labels):
        prices = [None] * len(labels)
    status, venue_status = _status(market)
    return Market(
        venue=POLYMARKET,
        id=market_id,
        title=str(market.get("question") or event.get("title") or market_id),
        subject=str(market.get("groupItemTitle") or ""),
        no_subject="",
        event_id=str(event.get("id") or ""),
        event_title=str(event.get("title") or ""),
        series=str(event.get("slug") or market.get("slug") or ""),
        outcomes=tuple(Outcome(label, token, price) for label, token, price in zip(labels, tokens, prices)),
        close_time=parse_time(market.get("endDate") or market.get("endDateIso")),
        status=status,
        venue_status=venue_status,
        rules=str(market.get("description") or event.get("description") or ""),
        fees=_fees(market),
        tick_size=to_decimal(market.get("orderPriceMinTickSize")),
        fetched_at=fetched_at,
        market_type="binary" if len(labels) == 2 else f"{len(labels)} outcomes",
        neg_risk=bool(market.get("negRisk") or event.get("negRisk")),
        condition_id=str(market.get("conditionId") or ""),
    )


def _parse(raw: object, event: dict | None, fetched: Fetched) -> Market:
    try:
        if not isinstance(raw, dict):
            raise ValueError("not an object")
        return parse_market(raw, event, fetched.fetched_at)
    except (ValueError, TypeError, AttributeError) as exc:
        raise VenueError(f"polymarket REST: malformed market in GET {fetched.url}: {exc}") from None


def _list(fetched: Fetched) -> list:
    if not isinstance(fetched.data, list):
        raise VenueError(f"polymarket REST: malformed response from GET {fetched.url}: expected a JSON list")
    return fetched.data


class GammaRest:
    """Polymarket's Gamma endpoints, paginated by limit/offset."""

    def __init__(self, client: RestClient, *, page: int = PAGE) -> None:
        self.client = client
        self.page = page

    def _pages(self, path: str, params: dict) -> Iterator[tuple[list, Fetched]]:
        offset = 0
        while True:
            fetched = self.client.get_json(path, {**params, "limit": self.page, "offset": offset})
            items = _list(fetched)
            yield items, fetched
            if len(items) < self.page:
                return
            offset += len(items)

    def open_markets(self, *, end_min: dt.datetime | None = None,
                     end_max: dt.datetime | None = None) -> list[Market]:
        """Markets of active, unclosed events, each with its event's title and neg-risk flag."""
        params = {"active": True, "closed": False, "order": "id", "ascending": True,
                  "end_date_min": end_min.strftime("%Y-%m-%dT%H:%M:%SZ") if end_min else None,
                  "end_date_max": end_max.strftime("%Y-%m-%dT%H:%M:%SZ") if end_max else None}
        out: list[Market] = []
        for events, fetched in self._pages("/events", params):
            for event in events:
                if not isinstance(event, dict) or not isinstance(event.get("markets", []), list):
                    raise VenueError(f"polymarket REST: malformed event in GET {fetched.url}")
                out.extend(_parse(raw, event, fetched) for raw in event.get("markets") or [])
        return out

    def markets_by_token(self, tokens: Iterable[str]) -> dict[str, Market]:
        """Markets holding any of the given CLOB token ids, keyed by token, whatever their status."""
        tokens = sorted(set(tokens))
        out: dict[str, Market] = {}
        for start in range(0, len(tokens), TOKENS_PER_QUERY):
            chunk = tokens[start:start + TOKENS_PER_QUERY]
            params = {"clob_token_ids": chunk}  # repeated: clob_token_ids=a&clob_token_ids=b
            for markets, fetched in self._pages("/markets", params):
                for raw in markets:
                    market = _parse(raw, None, fetched)
                    for outcome in market.outcomes:
                        out[outcome.token] = market
        return out
