"""The TOML run configuration (DESIGN §11).

Every section is a strict msgspec Struct: an unknown key is an error naming it. Money and rate
values are Decimal, taken from TOML exactly as written.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import msgspec

from arbkit.errors import ConfigError

KALSHI_WS_URL = "wss://external-api-ws.kalshi.com/trade-api/ws/v2"
KALSHI_REST_URL = "https://external-api.kalshi.com/trade-api/v2"
POLYMARKET_WS_URL = "wss://ws-subscriptions-clob.polymarket.com/ws/market"
POLYMARKET_REST_URL = "https://gamma-api.polymarket.com"


class _Section(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class KalshiVenue(_Section):
    ws_url: str = KALSHI_WS_URL
    rest_url: str = KALSHI_REST_URL
    key_id: str | None = None
    key_id_env: str | None = None
    private_key_path: str | None = None
    use_yes_price: bool = False
    channels: list[str] = msgspec.field(default_factory=lambda: ["orderbook_delta"])

    def __repr__(self) -> str:  # keep the key id out of any log line or traceback
        return f"KalshiVenue(ws_url={self.ws_url!r}, use_yes_price={self.use_yes_price})"

    def resolved_key_id(self) -> str | None:
        """The key id from the config, else from the environment variable it names."""
        if self.key_id:
            return self.key_id
        if self.key_id_env:
            return os.environ.get(self.key_id_env) or None
        return None


class PolymarketVenue(_Section):
    ws_url: str = POLYMARKET_WS_URL
    rest_url: str = POLYMARKET_REST_URL
    custom_feature_enabled: bool = False
    subscribe_no_token: bool = True


class Venues(_Section):
    kalshi: KalshiVenue = msgspec.field(default_factory=KalshiVenue)
    polymarket: PolymarketVenue = msgspec.field(default_factory=PolymarketVenue)


class FeeOverride(_Section):
    """Fee values in force from `since` (UTC) on; the latest applicable override wins."""

    since: dt.datetime
    kalshi_fee_multiplier: Decimal | None = None
    polymarket_fee_rate: Decimal | None = None


class Pair(_Section):
    name: str
    kalshi_ticker: str
    polymarket_yes_token: str
    polymarket_no_token: str
    kalshi_fee_multiplier: Decimal = Decimal("1")
    polymarket_fee_rate: Decimal = Decimal("0")
    fee_overrides: list[FeeOverride] = msgspec.field(default_factory=list)


class Detector(_Section):
    min_edge: Decimal = Decimal("0.01")
    min_size: Decimal = Decimal("1")
    max_staleness_ms: int = 5000


class Risk(_Section):
    max_size_per_trade: Decimal = Decimal("100")
    max_position_per_pair: Decimal = Decimal("1000")
    max_total_exposure: Decimal = Decimal("10000")
    max_unhedged_exposure: Decimal = Decimal("500")
    daily_loss_limit: Decimal = Decimal("500")
    max_book_staleness_ms: int = 5000
    min_connection_uptime_s: float = 0.0
    cooldown_ms: int = 1000


class Fills(_Section):
    on_unmatched: Literal["unwind", "hold"] = "unwind"


class Latency(_Section):
    seed: int = 0
    model: Literal["constant", "empirical"] = "constant"
    kalshi_ms: float = 50.0
    polymarket_ms: float = 50.0
    jitter_ms: float = 0.0
    # Recording to measure the "empirical" model from (recv − venue timestamp of its frames);
    # a replay defaults to the recording it replays, a live run needs it set.
    samples_from: str | None = None


class Recorder(_Section):
    flush_interval_s: float = 1.0
    rotation_s: float = 3600.0
    assets_per_connection: int = 200
    stale_after_s: float = 60.0
    ping_interval_s: float = 10.0
    backoff_initial_s: float = 0.1
    backoff_max_s: float = 30.0
    permessage_deflate: bool = False  # off by default: it costs ~6x CPU per frame on receive


class Config(_Section):
    venues: Venues = msgspec.field(default_factory=Venues)
    pairs: list[Pair] = msgspec.field(default_factory=list)
    detector: Detector = msgspec.field(default_factory=Detector)
    risk: Risk = msgspec.field(default_factory=Risk)
    fills: Fills = msgspec.field(default_factory=Fills)
    latency: Latency = msgspec.field(default_factory=Latency)
    recorder: Recorder = msgspec.field(default_factory=Recorder)
    base_dir: str = "."  # folder of the config file; relative paths resolve against it

    def key_path(self) -> Path | None:
        """The Kalshi private key path, resolved against the config file's folder."""
        raw = self.venues.kalshi.private_key_path
        if not raw:
            return None
        path = Path(raw).expanduser()
        return path if path.is_absolute() else Path(self.base_dir) / path


def parse_config(text: str, base_dir: Path | str = ".", source: str = "config") -> Config:
    """Parse TOML config text; raise ConfigError naming the problem."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    if "base_dir" in raw:
        raise ConfigError(f"{source}: unknown key `base_dir`")
    raw["base_dir"] = str(base_dir)
    try:
        config = msgspec.convert(raw, Config)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"{source}: {_explain(str(exc), raw)}") from None
    names = [p.name for p in config.pairs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"{source}: duplicate pair name {duplicates[0]!r}")
    return config


_UNKNOWN = re.compile(r"Object contains unknown field `(?P<key>[^`]*)`(?: - at `\$(?P<at>[^`]*)`)?$")
_AT = re.compile(r"^(?P<what>.*) - at `\$(?P<at>[^`]*)`$")


def _explain(message: str, raw: dict[str, Any]) -> str:
    """Reword a msgspec validation error for a person: the section as written in TOML, a pair by
    its `name`, and for a misspelt key the closest known one."""
    unknown = _UNKNOWN.match(message)
    if unknown:
        key, at = unknown["key"], unknown["at"] or ""
        known = [k for k in _keys(at) if k != "base_dir"]
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]}?" if close else f" (known: {', '.join(known)})"
        return f"{_where(at, raw)}{key}: unknown key{hint}"
    located = _AT.match(message)
    if located:
        at = located["at"]
        head, _, last = at.rpartition(".")
        if last and not last.endswith("]"):  # the error is about one key: name it
            return f"{_where(head, raw)}{last}: {located['what'].lower()}"
        return f"{_where(at, raw)}{located['what'].lower()}"
    return message


def _where(at: str, raw: dict[str, Any]) -> str:
    """`.pairs[1].fee_overrides[0]` -> `pair "NBA x", fee_overrides[0]: ` (empty at the top)."""
    if not at:
        return ""
    parts = []
    for match in re.finditer(r"\.(\w+)(?:\[(\d+)\])?", at):
        name, index = match[1], match[2]
        if name == "pairs" and index is not None and not parts:
            pairs = raw.get("pairs")
            entry = pairs[int(index)] if isinstance(pairs, list) and int(index) < len(pairs) else None
            label = entry.get("name") if isinstance(entry, dict) else None
            parts.append(f'pair "{label}"' if isinstance(label, str) else f"pairs[{index}]")
        else:
            parts.append(name if index is None else f"{name}[{index}]")
    if parts[0].startswith(("pair ", "pairs[")):
        return ", ".join(parts) + ": "
    return "[" + ".".join(parts) + "] "


def _keys(at: str) -> list[str]:
    """The keys the config section at `at` (a msgspec path) accepts."""
    info: Any = msgspec.inspect.type_info(Config)
    for name in re.findall(r"\.(\w+)", at):
        field = next((f for f in info.fields if f.name == name), None)
        if field is None:
            return []
        info = field.type
        while isinstance(info, (msgspec.inspect.ListType, msgspec.inspect.UnionType)):
            info = info.item_type if isinstance(info, msgspec.inspect.ListType) else next(
                t for t in info.types if not isinstance(t, msgspec.inspect.NoneType)
            )
    return [f.name for f in info.fields] if isinstance(info, msgspec.inspect.StructType) else []


def load_config(path: Path | str) -> Config:
    """Read and parse a config file; raise ConfigError naming the problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    return parse_config(text, base_dir=path.resolve().parent, source=str(path))


def config_to_dict(config: Config) -> dict:
    """A JSON-able view of the config with secrets removed (for manifests and run.json)."""
    data = msgspec.to_builtins(config)
    kalshi = data["venues"]["kalshi"]
    kalshi.pop("key_id", None)
    data.pop("base_dir", None)
    return data
