"""The hot paths read some msgspec structs as tuples of their fields (msgspec.structs.astuple),
by position: a field added or moved in these classes must move those reads with it."""

from arbkit.core.events import LevelDelta, LevelSet
from arbkit.venues.kalshi.wire import DeltaFrame, DeltaMsg
from arbkit.venues.polymarket.wire import AssetChange


def test_level_events_lead_with_market_side_price_amount():
    # BookManager._apply_run reads fields 2-5 of both level classes.
    assert LevelDelta.__struct_fields__[:6] == ("venue", "recv_ns", "market", "side", "price", "delta")
    assert LevelSet.__struct_fields__[:6] == ("venue", "recv_ns", "market", "side", "price", "size")


def test_wire_structs_read_by_position():
    # KalshiDecoder.decode's delta path and the Polymarket price_change path.
    assert DeltaFrame.__struct_fields__ == ("sid", "seq", "sending_ts_ms", "id", "msg")
    assert DeltaMsg.__struct_fields__[:5] == ("market_ticker", "price_dollars", "delta_fp", "side", "ts_ms")
    assert AssetChange.__struct_fields__ == ("asset_id", "price", "size", "side", "best_bid", "best_ask")
