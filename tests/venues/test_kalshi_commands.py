"""Kalshi command builders (PROTOCOLS §1.4): `{"id", "cmd", "params"}` as compact JSON."""

from __future__ import annotations

import json

import pytest

from arbkit.venues.kalshi.commands import (
    list_subscriptions,
    subscribe,
    unsubscribe,
    update_subscription,
)


def test_orderbook_subscribe_matches_the_documented_shape():
    command = subscribe(1, ["orderbook_delta"], ["KXFEDDECISION-27JAN-H0", "KXFEDDECISION-27JAN-C25"], False)

    assert command == (
        b'{"id":1,"cmd":"subscribe","params":{"channels":["orderbook_delta"],'
        b'"market_tickers":["KXFEDDECISION-27JAN-H0","KXFEDDECISION-27JAN-C25"],"use_yes_price":false}}'
    )


def test_subscribe_leaves_out_unset_options():
    command = json.loads(subscribe(2, ("ticker", "trade"), None))

    assert command == {"id": 2, "cmd": "subscribe", "params": {"channels": ["ticker", "trade"]}}


def test_subscribe_without_channels_is_refused():
    with pytest.raises(ValueError, match="channel"):
        subscribe(1, [], ["X"])


@pytest.mark.parametrize("action", ["add_markets", "delete_markets", "get_snapshot"])
def test_update_subscription_names_one_sid_and_the_action(action):
    command = json.loads(update_subscription(3, 7, action, ["KXFEDDECISION-27JAN-C50"]))

    assert command == {
        "id": 3,
        "cmd": "update_subscription",
        "params": {"sid": 7, "action": action, "market_tickers": ["KXFEDDECISION-27JAN-C50"]},
    }


def test_update_subscription_with_an_unknown_action_is_refused():
    with pytest.raises(ValueError, match="action"):
        update_subscription(3, 7, "resubscribe")


def test_unsubscribe_lists_the_sids():
    assert unsubscribe(5, [1, 2]) == b'{"id":5,"cmd":"unsubscribe","params":{"sids":[1,2]}}'


def test_unsubscribe_without_sids_is_refused():
    with pytest.raises(ValueError, match="sid"):
        unsubscribe(5, [])


def test_list_subscriptions_has_no_params():
    assert list_subscriptions(6) == b'{"id":6,"cmd":"list_subscriptions"}'
