"""Latency models measured from recordings: the feed delay `recv_ns − venue timestamp`."""

from __future__ import annotations

from pathlib import Path

from arbkit.config import Config
from arbkit.core.events import VENUES
from arbkit.core.frame import KIND_IN
from arbkit.core.latency import EmpiricalLatency, LatencyModel, latency_model_from_config
from arbkit.errors import ConfigError
from arbkit.store import reader

MAX_SAMPLES_PER_VENUE = 200_000


def feed_latency_samples(
    source: str | Path, max_per_venue: int = MAX_SAMPLES_PER_VENUE
) -> dict[str, list[int]]:
    """Collect `recv_ns − venue_ts_ms` (ns) per venue from a recording's received frames.

    Takes the first `max_per_venue` frames per venue that carry a venue timestamp, in replay
    order, so the samples (and every draw from them) are the same on every run.
    """
    import pyarrow.compute as pc  # only for the empirical model: replay starts without it

    columns = ["venue", "kind", "recv_ns", "venue_ts_ms"]
    samples: dict[str, list[int]] = {venue: [] for venue in VENUES}
    for batch in reader.iter_frame_batches(source, columns=columns):
        keep = pc.and_(pc.equal(batch.column("kind"), KIND_IN), pc.is_valid(batch.column("venue_ts_ms")))
        rows = batch.filter(keep)
        if rows.num_rows == 0:
            continue
        delays = pc.subtract(rows.column("recv_ns"), pc.multiply(rows.column("venue_ts_ms"), 1_000_000))
        for venue, delay in zip(rows.column("venue").to_pylist(), delays.to_pylist()):
            bucket = samples.get(venue)
            if bucket is not None and len(bucket) < max_per_venue:
                bucket.append(delay)
        if all(len(v) >= max_per_venue for v in samples.values()):
            break
    return {venue: values for venue, values in samples.items() if values}


def latency_model(config: Config, replaying: str | Path | None) -> LatencyModel:
    """Build the run's latency model; measure an empirical one from a recording."""
    latency = config.latency
    if latency.model != "empirical":
        return latency_model_from_config(latency)
    source = latency.samples_from or replaying
    if source is None:
        raise ConfigError("latency.model = 'empirical' needs latency.samples_from (a recording) here")
    samples = feed_latency_samples(source)
    missing = [venue for venue in VENUES if venue not in samples]
    if missing:
        raise ConfigError(f"latency: recording {source} has no venue timestamps for {', '.join(missing)}")
    return EmpiricalLatency.from_samples(samples)
