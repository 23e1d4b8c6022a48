"""Kalshi Trade API v2 market discovery (PROTOCOLS §1.11): series, events, markets."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from decimal import Decimal

from arbkit.markets.http import Fetched, RestClient, VenueError
from arbkit.markets.model import (
    CLOSED, KALSHI, OPEN, PAUSED, RESOLVED, UPCOMING, Fees, Market, Outcome, parse_time, to_decimal,
)

EVENTS_PAGE = 200  # the API's maximum for /events
MARKETS_PAGE = 1000  # the API's maximum for /markets
TICKERS_PER_QUERY = 50

_STATUS = {
    "active": OPEN, "open": OPEN,
    "initialized": UPCOMING, "unopened": UPCOMING,
    "inactive": PAUSED, "paused": PAUSED,
    "closed": CLOSED,
    "determined": RESOLVED, "disputed": RESOLVED, "amended": RESOLVED, "finalized": RESOLVED,
    "settled": RESOLVED,
}


def _shape(fetched: Fetched, key: str, kind: type) -> object:
    data = fetched.data
    if not isinstance(data, dict) or not isinstance(data.get(key), kind):
        raise VenueError(f"kalshi REST: malformed response from GET {fetched.url}: expected an object "
                         f"with `{key}` ({kind.__name__})")
    return data[key]


def series_fees(series: dict) -> Fees:
    """The series' fee type and multiplier (a JSON number: 1, 0.5 ...)."""
    return Fees(series.get("fee_type"), to_decimal(series.get("fee_multiplier")))


def _tick(market: dict) -> Decimal | None:
    # 2026 markets: price_ranges [{start, end, step}] ("linear_cent" = one step of 0.01);
    # legacy markets: tick_size in cents.
    ranges = market.get("price_ranges")
    if isinstance(ranges, list) and ranges and isinstance(ranges[0], dict):
        steps = [to_decimal(r.get("step")) for r in ranges if isinstance(r, dict)]
        steps = [s for s in steps if s]
        if steps:
            return min(steps)
    cents = to_decimal(market.get("tick_size"))
    return cents / 100 if cents else None


def _yes_price(market: dict) -> Decimal | None:
    # 2026 fields are dollar strings; until 2026-03 the same prices were integer cents.
    bid, ask = to_decimal(market.get("yes_bid_dollars")), to_decimal(market.get("yes_ask_dollars"))
    if bid is None and ask is None and market.get("yes_bid") is not None:
        bid, ask = to_decimal(market.get("yes_bid")), to_decimal(market.get("yes_ask"))
        bid, ask = (bid / 100 if bid is not None else None), (ask / 100 if ask is not None else None)
    if bid and ask and bid < ask:
        return (bid + ask) / 2
    last = to_decimal(market.get("last_price_dollars"))
    return last if last else None


def _outcomes(ticker: str, market: dict) -> tuple[Outcome, Outcome]:
    price = _yes_price(market)
    return Outcome("Yes", ticker, price), Outcome("No", ticker, 1 - price if price is not None else None)


def parse_market(market: dict, event: dict, fees: Fees, fetched_at: dt.datetime) -> Market:
    """A Kalshi market object (with its event) as a `Market`."""
    ticker = str(market.get("ticker") or "")
    if not ticker:
        raise ValueError("market without ticker")
    venue_status = str(market.get("status") or "")
    status = _STATUS.get(venue_status, OPEN if not venue_status else PAUSED)
    if market.get("result") in ("yes", "no") and status != RESOLVED:
        status = RESOLVED
    rules = "\n\n".join(str(market[k]) for k in ("rules_primary", "rules_secondary") if market.get(k))
    others = tuple(t for t in (parse_time(market.get(k)) for k in
                               ("expected_expiration_time", "occurrence_datetime")) if t is not None)
    return Market(
        venue=KALSHI,
        id=ticker,
        title=str(market.get("title") or event.get("title") or ticker),
        subject=str(market.get("yes_sub_title") or market.get("subtitle") or ""),
        no_subject=str(market.get("no_sub_title") or ""),
        event_id=str(market.get("event_ticker") or event.get("event_ticker") or ""),
        event_title=str(event.get("title") or ""),
        series=str(event.get("series_ticker") or ""),
        outcomes=_outcomes(ticker, market),
        close_time=parse_time(market.get("close_time")),
        status=status,
        venue_status=venue_status,
        rules=rules,
        fees=fees,
        tick_size=_tick(market),
        fetched_at=fetched_at,
        market_type=str(market.get("market_type") or "binary"),
        other_times=others,
    )


class KalshiRest:
    """Kalshi's public market-data endpoints, paginated by cursor."""

    def __init__(self, client: RestClient, *, events_page: int = EVENTS_PAGE,
                 markets_page: int = MARKETS_PAGE) -> None:
        self.client = client
        self.events_page = events_page
        self.markets_page = markets_page
        self._series: dict[str, Fees] = {}

    def _pages(self, path: str, key: str, params: dict) -> Iterator[tuple[list, Fetched]]:
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            fetched = self.client.get_json(path, {**params, "cursor": cursor})
            items = _shape(fetched, key, list)
            yield items, fetched
            cursor = fetched.data.get("cursor") or None  # type: ignore[union-attr]
            if not cursor or not items:
                return
            if cursor in seen:  # a venue that hands back the same cursor would loop forever
                raise VenueError(f"kalshi REST: GET {fetched.url} repeated cursor {cursor!r}")
            seen.add(cursor)

    def all_series_fees(self) -> dict[str, Fees]:
        """Fee parameters of every series (one GET /series)."""
        fetched = self.client.get_json("/series")
        for series in _shape(fetched, "series", list):
            if isinstance(series, dict) and series.get("ticker"):
                self._series[str(series["ticker"])] = series_fees(series)
        return dict(self._series)

    def series_fee(self, ticker: str) -> Fees:
        """One series' fee parameters (GET /series/{ticker}, cached for this client)."""
        if ticker not in self._series:
            fetched = self.client.get_json(f"/series/{ticker}")
            self._series[ticker] = series_fees(_shape(fetched, "series", dict))  # type: ignore[arg-type]
        return self._series[ticker]

    def open_markets(self, series: Iterable[str] = (), *, min_close: dt.datetime | None = None,
                     max_close: dt.datetime | None = None) -> list[Market]:
        """Markets of open events (all, or of the given series), with their series' fees."""
        series = list(series)
        if not series:
            self.all_series_fees()
        out: list[Market] = []
        for series_ticker in series or [None]:
            params = {"status": "open", "with_nested_markets": True, "limit": self.events_page,
                      "series_ticker": series_ticker,
                      "min_close_ts": int(min_close.timestamp()) if min_close else None}
            for events, fetched in self._pages("/events", "events", params):
                for event in events:
                    out.extend(self._event_markets(event, fetched, max_close))
        return out

    def _event_markets(self, event: object, fetched: Fetched, max_close: dt.datetime | None) -> list[Market]:
        if not isinstance(event, dict) or not isinstance(event.get("markets", []), list):
            raise VenueError(f"kalshi REST: malformed event in GET {fetched.url}")
        series = str(event.get("series_ticker") or "")
        fees = self.series_fee(series) if series else Fees(None, None)
        markets = []
        for raw in event.get("markets") or []:
            market = self._parse(raw, event, fees, fetched)
            if max_close is None or market.close_time is None or market.close_time <= max_close or any(
                    t <= max_close for t in market.other_times):
                markets.append(market)
        return markets

    def _parse(self, raw: object, event: dict, fees: Fees, fetched: Fetched) -> Market:
        try:
            if not isinstance(raw, dict):
                raise ValueError("not an object")
            return parse_market(raw, event, fees, fetched.fetched_at)
        except (ValueError, TypeError, AttributeError) as exc:
            raise VenueError(f"kalshi REST: malformed market in GET {fetched.url}: {exc}") from None

    def markets_by_ticker(self, tickers: Iterable[str]) -> dict[str, Market]:
        """The named markets, whatever their status (GET /markets?tickers=..., then their events)."""
        tickers = sorted(set(tickers))
        raw_markets: list[tuple[dict, Fetched]] = []
        for start in range(0, len(tickers), TICKERS_PER_QUERY):
            chunk = ",".join(tickers[start:start + TICKERS_PER_QUERY])
            params = {"tickers": chunk, "limit": self.markets_page}
            for markets, fetched in self._pages("/markets", "markets", params):
                raw_markets.extend((m, fetched) for m in markets)
        events: dict[str, dict] = {}
        out: dict[str, Market] = {}
        for raw, fetched in raw_markets:
            if not isinstance(raw, dict):
                raise VenueError(f"kalshi REST: malformed market in GET {fetched.url}")
            event_ticker = str(raw.get("event_ticker") or "")
            if event_ticker and event_ticker not in events:
                got = self.client.get_json(f"/events/{event_ticker}")
                events[event_ticker] = _shape(got, "event", dict)  # type: ignore[assignment]
            event = events.get(event_ticker, {})
            series = str(event.get("series_ticker") or "")
            fees = self.series_fee(series) if series else Fees(None, None)
            market = self._parse(raw, event, fees, fetched)
            out[market.id] = market
        return out
