"""The reviewable pairs file: `[[pairs]]` tables as `record`/`replay` read them, evidence as comments.

Each table is preceded by its evidence for a person to review: both titles, the orientation (which
Polymarket outcome label pays on Kalshi YES), both close times, both venues' fees and ticks, the
flags and the two rules texts side by side. A `# check: {...}` comment keeps what was seen when
the file was written, so `arbkit markets check` can report what changed since. The loader
ignores comments, so the file is an arbkit config of its own (`arbkit replay --config pairs.toml`),
or its tables can be appended to an arbkit.toml that holds the venue settings.
"""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from arbkit.config import Pair, load_config
from arbkit.errors import ConfigError, UserError
from arbkit.markets.match import Candidate, MatchResult, orient
from arbkit.markets.model import Market

COLUMN = 58
STATE_PREFIX = "# check: "


def _toml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def _number(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    return text if "." in text else text + ".0"


def _time(when: dt.datetime | None) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ") if when else "unknown"


def _side_by_side(left: str, right: str) -> list[str]:
    def wrap(text: str) -> list[str]:
        out: list[str] = []
        for para in (text or "(none)").splitlines():
            out.extend(textwrap.wrap(para, COLUMN) or [""])
        return out

    lines_l, lines_r = wrap(left), wrap(right)
    height = max(len(lines_l), len(lines_r))
    lines_l += [""] * (height - len(lines_l))
    lines_r += [""] * (height - len(lines_r))
    rows = [f"#   {'Kalshi rules':<{COLUMN}} | Polymarket rules", f"#   {'-' * COLUMN} | {'-' * COLUMN}"]
    rows += [f"#   {a:<{COLUMN}} | {b}".rstrip() for a, b in zip(lines_l, lines_r)]
    return rows


def _fees(market: Market) -> str:
    rate = "unknown" if market.fees.rate is None else f"{market.fees.rate.normalize():f}"
    return f"{market.fees.kind or 'fee type unknown'} x {rate}"


def _tick(market: Market) -> str:
    return "unknown" if market.tick_size is None else f"{market.tick_size.normalize():f}"


def pair_name(candidate: Candidate) -> str:
    """A readable, unique pair name: the Kalshi ticker and what its YES side is."""
    return f"{candidate.kalshi.id}: {candidate.kalshi.label}"


def state_of(candidate: Candidate) -> dict:
    """What `check` compares against later."""
    k, p, o = candidate.kalshi, candidate.polymarket, candidate.orientation
    return {
        "kalshi_ticker": k.id, "polymarket_market_id": p.id,
        "kalshi_close_time": _time(k.close_time), "polymarket_close_time": _time(p.close_time),
        "kalshi_status": k.status, "polymarket_status": p.status,
        "yes_label": o.yes.label if o else None, "no_label": o.no.label if o else None,
    }


def evidence(candidate: Candidate, index: int, total: int) -> list[str]:
    """The comment block a reviewer reads above one pair."""
    k, p, o = candidate.kalshi, candidate.polymarket, candidate.orientation
    gap = candidate.close_gap
    labels = ", ".join(_toml_str(x.label) + (f" {x.price:.2f}" if x.price is not None else "") for x in p.outcomes)
    lines = [
        f"# ---- pair {index} of {total}: score {candidate.score:.2f} " + "-" * 40,
        f"# Kalshi      {k.id}  {_toml_str(k.title)}" + (f"  [YES: {k.subject}]" if k.subject else "")
        + (f"  YES {k.outcomes[0].price:.2f}" if k.outcomes and k.outcomes[0].price is not None else ""),
        f"#             event {k.event_id} {_toml_str(k.event_title)}; {k.venue_status or k.status}; "
        f"closes {_time(k.close_time)}",
        f"#             fees {_fees(k)}; tick {_tick(k)}; fetched {_time(k.fetched_at)}",
        f"# Polymarket  market {p.id}  {_toml_str(p.title)}" + (f"  [{p.subject}]" if p.subject else ""),
        f"#             event {p.event_id} {_toml_str(p.event_title)}; {p.venue_status or p.status}; "
        f"ends {_time(p.close_time)}; neg-risk {'yes' if p.neg_risk else 'no'}",
        f"#             fees {_fees(p)}; tick {_tick(p)}; fetched {_time(p.fetched_at)}",
        f"# outcomes    [{labels}]: Kalshi YES pays with {_toml_str(o.yes.label)}, Kalshi NO with "
        f"{_toml_str(o.no.label)} (by label, not position)" if o else "# outcomes    orientation unknown",
        "# close times " + (f"{gap.total_seconds() / 3600:.1f} h apart" if gap is not None else "unknown"),
        "# flags       " + (", ".join(candidate.flags) if candidate.flags else "none"),
    ]
    lines += [f"#   - {note}" for note in candidate.notes]
    if k.fees.rate is None or p.fees.rate is None:
        lines.append("#   ! a venue gave no fee rate: the fee below is 0 until you set it")
    lines += _side_by_side(k.rules, p.rules)
    lines.append(STATE_PREFIX + json.dumps(state_of(candidate), sort_keys=True))
    # Venue text is data: a line break inside a title would end the comment and break the TOML.
    return [" ".join(line.splitlines()) for line in lines]


def render(result: MatchResult, *, written_at: dt.datetime, sources: dict[str, str],
           tolerance_h: float) -> str:
    """The pairs file text for a match result."""
    pairs = result.pairs
    lines = [
        f"# arbkit pairs: written by `arbkit markets match` at {_time(written_at)}",
        *(f"# {venue:<11} {source}" for venue, source in sources.items()),
        f"# {len(pairs)} pair(s) at min score {result.min_score:g}, close-time tolerance {tolerance_h:g} h.",
        "# Review every pair's evidence before trading on it. Use the file as it is",
        "# (`arbkit replay --config pairs.toml`), or append its [[pairs]] tables to the arbkit.toml",
        "# that holds your venue settings. `arbkit markets check pairs.toml` reports what changed.",
    ]
    for i, cand in enumerate(pairs, 1):
        o = cand.orientation
        assert o is not None  # match() writes oriented candidates only
        lines += ["", *evidence(cand, i, len(pairs)), "[[pairs]]",
                  f"name = {_toml_str(pair_name(cand))}",
                  f"kalshi_ticker = {_toml_str(cand.kalshi.id)}",
                  f"polymarket_yes_token = {_toml_str(o.yes.token)}",
                  f"polymarket_no_token = {_toml_str(o.no.token)}",
                  f"kalshi_fee_multiplier = {_number(cand.kalshi.fees.rate or Decimal(1))}",
                  f"polymarket_fee_rate = {_number(cand.polymarket.fees.rate or Decimal(0))}"]
    chosen = {c.kalshi.id for c in pairs}
    held = [c for c in result.best() if c.kalshi.id not in chosen and c.score >= result.min_score]
    if held:
        lines += ["", "# ---- not written: best candidates at or above the min score that a trap or a",
                  "# better pairing kept out (review if you expected them)"]
        for cand in held:
            why = ", ".join(f for f in cand.flags) or "its Polymarket market went to a better pairing"
            lines.append(f"#   {cand.score:.2f}  {cand.kalshi.id} ~ Polymarket {cand.polymarket.id} "
                         f"{_toml_str(cand.polymarket.title)}: {why}")
    return "\n".join(lines) + "\n"


def write(path: Path, text: str) -> None:
    """Write the pairs file (atomically: a reader sees the old or the new file)."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        raise UserError(f"cannot write pairs file {path}: {exc.strerror or exc}") from None


# ---- check ----------------------------------------------------------------------------------


@dataclass
class PairCheck:
    """What changed for one pair since its file was written."""

    pair: Pair
    changes: list[str] = field(default_factory=list)


def load(path: Path) -> tuple[list[Pair], dict[str, dict]]:
    """The pairs of a pairs file (or any arbkit config) and the written state per Kalshi ticker."""
    config = load_config(path)  # one-line errors for a missing, unreadable or invalid file
    text = path.read_text(encoding="utf-8")
    if not config.pairs:
        raise ConfigError(f"{path}: no [[pairs]] to check")
    states: dict[str, dict] = {}
    for line in text.splitlines():
        if line.startswith(STATE_PREFIX):
            try:
                state = json.loads(line[len(STATE_PREFIX):])
            except ValueError:
                raise ConfigError(f"{path}: unreadable `# check:` line: {line[:80]}") from None
            if isinstance(state, dict) and state.get("kalshi_ticker"):
                states[str(state["kalshi_ticker"])] = state
    return config.pairs, states


def _fee_now(pair: Pair, now: dt.datetime) -> tuple[Decimal, Decimal]:
    kalshi, poly = pair.kalshi_fee_multiplier, pair.polymarket_fee_rate
    for override in sorted(pair.fee_overrides, key=lambda o: o.since):
        since = override.since if override.since.tzinfo else override.since.replace(tzinfo=dt.timezone.utc)
        if since <= now:
            kalshi = override.kalshi_fee_multiplier if override.kalshi_fee_multiplier is not None else kalshi
            poly = override.polymarket_fee_rate if override.polymarket_fee_rate is not None else poly
    return kalshi, poly


def check_pair(pair: Pair, state: dict | None, kalshi: Market | None, poly_yes: Market | None,
               poly_no: Market | None, now: dt.datetime) -> PairCheck:
    """Compare one written pair with freshly fetched markets."""
    result = PairCheck(pair)
    changes = result.changes
    if kalshi is None:
        changes.append(f"Kalshi market {pair.kalshi_ticker} is no longer listed")
    if poly_yes is None or poly_no is None:
        missing = pair.polymarket_yes_token if poly_yes is None else pair.polymarket_no_token
        changes.append(f"Polymarket token {missing[:12]}... is no longer listed")
    if kalshi is None or poly_yes is None or poly_no is None:
        return result
    if poly_yes.id != poly_no.id:
        changes.append(f"the YES and NO tokens now belong to different Polymarket markets "
                       f"({poly_yes.id}, {poly_no.id})")
        return result
    labels = {o.token: o.label for o in poly_yes.outcomes}
    fresh = orient(kalshi, poly_yes)
    if fresh is None:
        changes.append(f"orientation: no outcome of Polymarket market {poly_yes.id} names Kalshi's YES side now")
    elif fresh.yes.token != pair.polymarket_yes_token:
        changes.append(f"orientation: Kalshi YES now pays with {fresh.yes.label!r} "
                       f"(token {fresh.yes.token[:12]}...), not the written YES token")
    if state:
        for key, venue_label in (("yes_label", "YES"), ("no_label", "NO")):
            token = pair.polymarket_yes_token if key == "yes_label" else pair.polymarket_no_token
            if state.get(key) is not None and labels.get(token) != state[key]:
                changes.append(f"orientation: the {venue_label} token's label was {state[key]!r}, "
                               f"now {labels.get(token)!r}")
        for key, market, venue in (("kalshi_close_time", kalshi, "Kalshi"),
                                   ("polymarket_close_time", poly_yes, "Polymarket")):
            if state.get(key) and _time(market.close_time) != state[key]:
                changes.append(f"{venue} close time was {state[key]}, now {_time(market.close_time)}")
        for key, market, venue in (("kalshi_status", kalshi, "Kalshi"),
                                   ("polymarket_status", poly_yes, "Polymarket")):
            if state.get(key) and market.status != state[key]:
                changes.append(f"{venue} status was {state[key]}, now {market.status} "
                               f"({market.venue_status})")
    else:
        changes.append("no `# check:` line for this pair: close times and status cannot be compared")
    kalshi_fee, poly_fee = _fee_now(pair, now)
    if kalshi.fees.rate is not None and kalshi.fees.rate != kalshi_fee:
        changes.append(f"Kalshi fee multiplier is {kalshi.fees.rate.normalize():f} ({kalshi.fees.kind}), "
                       f"the pair says {kalshi_fee.normalize():f}")
    if poly_yes.fees.rate is not None and poly_yes.fees.rate != poly_fee:
        changes.append(f"Polymarket fee rate is {poly_yes.fees.rate.normalize():f} ({poly_yes.fees.kind}), "
                       f"the pair says {poly_fee.normalize():f}")
    return result


def tokens_of(pairs: list[Pair]) -> list[str]:
    """Every Polymarket token the pairs name."""
    return [t for p in pairs for t in (p.polymarket_yes_token, p.polymarket_no_token)]
