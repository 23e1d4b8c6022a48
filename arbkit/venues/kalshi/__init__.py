"""Kalshi Trade API v2 WebSocket: frame decoder, command builders, handshake signing."""

from arbkit.venues.kalshi.decode import KalshiDecoder

__all__ = ["KalshiDecoder"]
