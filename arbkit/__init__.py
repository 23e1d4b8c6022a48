"""arbkit: record-and-replay research toolkit for Kalshi x Polymarket cross-venue arbitrage."""

__version__ = "0.1.0"

__all__ = ["__version__"]
