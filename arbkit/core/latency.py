"""Order latency models: how long a paper order takes to reach its venue (DESIGN §7).

A model is one method, `sample(venue, rng) -> ns` (STYLE §7: small models, injected randomness).
The caller owns the `random.Random`, seeded from `[latency] seed`, so the same seed and the same
sequence of calls give the same draws in live and replay alike. Draws are integers from
`rng.randint`/`rng.randrange`, never float arithmetic, so they are identical on every machine.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

from arbkit.core.events import KALSHI, POLYMARKET

if TYPE_CHECKING:
    from arbkit.config import Latency

NS_PER_MS = 1_000_000


class LatencyModel(Protocol):
    """Draw the one-way latency of an order to a venue, in nanoseconds."""

    def sample(self, venue: str, rng: random.Random) -> int: ...


def _ms_to_ns(ms: float) -> int:
    # Config milliseconds may be fractional (0.5 ms); rounding once here keeps every draw an int.
    return round(ms * NS_PER_MS)


class ConstantLatency:
    """A fixed per-venue latency plus uniform jitter in [0, jitter_ms].

    Jitter only ever adds: the constant is the floor a wire round trip cannot beat, and a
    symmetric jitter would let orders arrive faster than that.
    """

    def __init__(self, kalshi_ms: float, polymarket_ms: float, jitter_ms: float = 0.0) -> None:
        if kalshi_ms < 0 or polymarket_ms < 0 or jitter_ms < 0:
            raise ValueError("latencies and jitter must be >= 0 ms")
        self.base_ns = {KALSHI: _ms_to_ns(kalshi_ms), POLYMARKET: _ms_to_ns(polymarket_ms)}
        self.jitter_ns = _ms_to_ns(jitter_ms)

    def sample(self, venue: str, rng: random.Random) -> int:
        """Return the venue's base latency plus a seeded jitter draw, in ns."""
        base = self.base_ns[venue]
        if self.jitter_ns == 0:
            return base
        return base + rng.randint(0, self.jitter_ns)


class EmpiricalLatency:
    """Latency drawn uniformly from measured per-venue samples (ns).

    The samples are sorted once, so the model is the measured distribution itself: the same
    multiset of measurements gives the same draws whatever order the recording yielded them in.
    """

    def __init__(self, samples_by_venue: Mapping[str, list[int]]) -> None:
        self.samples: dict[str, list[int]] = {}
        for venue in sorted(samples_by_venue):
            values = samples_by_venue[venue]
            if not values:
                raise ValueError(f"no latency samples for venue {venue!r}")
            # recv − venue timestamp is negative when the venue clock runs ahead of ours; an order
            # cannot arrive before it was sent, so skew clamps to zero.
            self.samples[venue] = sorted(max(0, int(v)) for v in values)

    @classmethod
    def from_samples(cls, samples_by_venue: Mapping[str, list[int]]) -> EmpiricalLatency:
        """Build the model from `recv_ns − venue_ts_ms × 1e6` values per venue, in ns."""
        return cls(samples_by_venue)

    def sample(self, venue: str, rng: random.Random) -> int:
        """Return one measured latency of the venue, chosen by the seeded rng, in ns."""
        values = self.samples.get(venue)
        if values is None:
            raise ValueError(f"no latency samples for venue {venue!r}")
        return values[rng.randrange(len(values))]


def latency_model_from_config(
    config: Latency, samples_by_venue: Mapping[str, list[int]] | None = None
) -> LatencyModel:
    """Build the model `[latency] model` names; "empirical" needs measured samples."""
    if config.model == "empirical":
        if samples_by_venue is None:
            raise ValueError("latency model 'empirical' needs measured samples")
        return EmpiricalLatency.from_samples(samples_by_venue)
    return ConstantLatency(config.kalshi_ms, config.polymarket_ms, config.jitter_ms)
