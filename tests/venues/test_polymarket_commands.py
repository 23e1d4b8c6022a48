"""Polymarket market-channel client messages (PROTOCOLS §3.2)."""

from __future__ import annotations

import json

import pytest

from arbkit.core.events import POLYMARKET, Notice
from arbkit.venues.polymarket import (
    INVALID_OPERATION,
    PONG,
    PolymarketDecoder,
    dynamic_subscription,
    market_subscription,
)

TOKENS = ["7112003451", "4833009982"]


def test_market_subscription_asks_for_an_initial_dump_by_default():
    message = market_subscription(TOKENS)

    assert json.loads(message) == {
        "type": "market",
        "assets_ids": TOKENS,
        "initial_dump": True,
        "custom_feature_enabled": False,
    }
    assert message.startswith(b'{"type":"market"')


def test_market_subscription_can_enable_custom_features_and_skip_the_dump():
    message = market_subscription(iter(TOKENS), initial_dump=False, custom_feature_enabled=True)

    body = json.loads(message)
    assert (body["assets_ids"], body["initial_dump"], body["custom_feature_enabled"]) == (
        TOKENS,
        False,
        True,
    )


@pytest.mark.parametrize("operation", ["subscribe", "unsubscribe"])
def test_dynamic_subscription_names_the_operation_and_assets(operation: str):
    message = dynamic_subscription(operation, TOKENS[:1])

    assert json.loads(message) == {"operation": operation, "assets_ids": TOKENS[:1]}


def test_dynamic_subscription_rejects_an_unknown_operation():
    with pytest.raises(ValueError, match="subscribe or unsubscribe"):
        dynamic_subscription("resubscribe", TOKENS)


def test_a_single_token_string_is_rejected_rather_than_split_into_characters():
    with pytest.raises(ValueError, match="not one string"):
        market_subscription(TOKENS[0])
    with pytest.raises(ValueError, match="not one string"):
        dynamic_subscription("subscribe", TOKENS[0])


@pytest.mark.parametrize("reply", [PONG, INVALID_OPERATION])
def test_server_text_replies_decode_to_notices_equal_to_the_constants(reply: str):
    (notice,) = PolymarketDecoder().decode(reply.encode(), 5)

    assert notice == Notice(POLYMARKET, 5, reply)
