"""Parameter grids: `grid.toml` names config keys and their values.

Either a cartesian product, one list of values per dotted key::

    latency.kalshi_ms = [0, 50, 100]
    detector.min_edge = [0.005, 0.01]

or an explicit list of points, each a table of dotted keys::

    [[points]]
    latency.kalshi_ms = 0
    detector.min_edge = 0.01

Floats are read as Decimal, so a Decimal setting gets exactly the digits written.
"""

from __future__ import annotations

import difflib
import itertools
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec

from arbkit.config import Config
from arbkit.errors import ConfigError

Point = dict[str, Any]


def config_keys() -> dict[str, Any]:
    """Every sweepable config key (`section.key`) and its msgspec type info."""
    keys: dict[str, Any] = {}

    def walk(info: Any, prefix: str) -> None:
        for field in info.fields:
            kind = field.type
            if isinstance(kind, msgspec.inspect.UnionType):
                kinds = [t for t in kind.types if not isinstance(t, msgspec.inspect.NoneType)]
                kind = kinds[0] if len(kinds) == 1 else kind
            name = f"{prefix}{field.name}"
            if isinstance(kind, msgspec.inspect.StructType):
                walk(kind, f"{name}.")
            elif not isinstance(kind, msgspec.inspect.ListType) and name != "base_dir":
                keys[name] = kind

    walk(msgspec.inspect.type_info(Config), "")
    return keys


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _check_key(key: str, known: dict[str, Any], source: str) -> None:
    if key not in known:
        close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]}?" if close else ""
        raise ConfigError(f"{source}: unknown config key {key!r}{hint}")


def parse_grid(text: str, source: str = "grid") -> list[Point]:
    """Parse grid TOML into its points (each `{dotted key: value}`), in a stable order."""
    try:
        raw = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    known = config_keys()
    explicit = raw.pop("points", None)
    if explicit is not None:
        if raw:
            raise ConfigError(f"{source}: give either [[points]] or lists of values, not both")
        if not isinstance(explicit, list) or not all(isinstance(p, dict) for p in explicit):
            raise ConfigError(f"{source}: points must be an array of tables ([[points]])")
        points = [_flatten(p) for p in explicit]
        for point in points:
            for key, value in point.items():
                _check_key(key, known, source)
                if isinstance(value, list):
                    raise ConfigError(f"{source}: {key}: a point takes one value, not a list")
        keys = sorted({k for p in points for k in p})
        points = [{k: p[k] for k in keys if k in p} for p in points]
    else:
        axes = _flatten(raw)
        for key, values in axes.items():
            _check_key(key, known, source)
            if not isinstance(values, list) or not values:
                raise ConfigError(f"{source}: {key}: give a non-empty list of values")
        keys = list(axes)
        points = [dict(zip(keys, combo)) for combo in itertools.product(*(axes[k] for k in keys))]
    if not points:
        raise ConfigError(f"{source}: the grid has no points")
    return points


def load_grid(path: Path | str) -> list[Point]:
    """Read and parse a grid file; raise ConfigError naming the problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"grid file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read grid file {path}: {exc}") from None
    return parse_grid(text, source=str(path))


def apply_point(config: Config, point: Point) -> Config:
    """The config with a grid point's values set; raise ConfigError naming a bad value."""
    data = msgspec.to_builtins(config)
    for key, value in point.items():
        *sections, last = key.split(".")
        table = data
        for section in sections:
            table = table[section]
        # Decimals travel as their exact text; strict=False turns text into the field's type.
        table[last] = str(value) if isinstance(value, Decimal) else value
    try:
        return msgspec.convert(data, Config, strict=False)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"grid point {format_point(point)}: {exc}") from None


def format_point(point: Point) -> str:
    """`latency.kalshi_ms=50, detector.min_edge=0.01`."""
    return ", ".join(f"{k}={v}" for k, v in point.items())
