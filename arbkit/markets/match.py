"""Score Kalshi x Polymarket market pairs, orient them by outcome label, flag the known traps.

A candidate's score (0..1) blends three things: how alike the two texts are (TF-IDF cosine over
title, YES subject and event title, so rare words such as team and people's names weigh most),
how close the two close times are, and whether the entities agree: the YES subject, numeric
thresholds with their direction ("above 100k" is not "below 100k"), and the dates named in the
titles. Disagreements subtract penalties; the rules texts are compared for dates, thresholds and
tie handling.

Orientation never comes from an outcome's position: the Polymarket token that pays when the
Kalshi market resolves YES is the outcome labelled "Yes" (wherever it sits, `["No","Yes"]`
included) or, for named outcomes (teams, people), the label that names Kalshi's YES subject.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache

from arbkit.markets.model import CLOSED, OPEN, RESOLVED, Market, Outcome

DEFAULT_MIN_SCORE = 0.6
DEFAULT_CLOSE_TOLERANCE = dt.timedelta(hours=48)
TIME_DECAY = dt.timedelta(days=7)  # beyond the tolerance the time score falls to 0 over this span
MAX_CANDIDATES = 60  # per Kalshi market, by shared rare words, before full scoring
COMMON_POSTINGS = 200  # a word in more Polymarket markets than this (or 5%) does not pick candidates

# Trap flags. BLOCKING ones keep a candidate out of a written pairs file whatever its score.
FLAG_CLOSED = "closed"  # either side closed, resolved or past its close time
FLAG_NOT_OPEN = "not_open"  # not yet open, or paused
FLAG_NON_BINARY = "non_binary"  # more or fewer than two outcomes, or a non-binary Kalshi market
FLAG_PLACEHOLDER = "neg_risk_placeholder"  # a neg-risk "Other"/placeholder outcome
FLAG_NEG_RISK = "neg_risk"  # one market of a neg-risk event (informational)
FLAG_ORIENTATION = "orientation_unknown"  # no outcome label names Kalshi's YES side
FLAG_DIRECTION = "threshold_direction_mismatch"  # same threshold, opposite direction
FLAG_THRESHOLD = "threshold_differs"
FLAG_SUBJECT = "subject_differs"  # e.g. the other team
FLAG_DATE = "date_differs"
FLAG_CLOSE_APART = "close_times_apart"
FLAG_RULES = "rules_differ"
FLAG_FEES_UNKNOWN = "fees_unknown"
FLAG_PRICES = "prices_disagree"  # the oriented prices are far apart: a flipped orientation?
PRICE_GAP = Decimal("0.25")
BLOCKING = frozenset({FLAG_CLOSED, FLAG_NON_BINARY, FLAG_PLACEHOLDER, FLAG_ORIENTATION, FLAG_DIRECTION,
                      FLAG_SUBJECT})

_SYNONYMS = {
    "decrease": "cut", "decreases": "cut", "lower": "cut", "lowers": "cut", "reduce": "cut", "cuts": "cut",
    "increase": "hike", "increases": "hike", "raise": "hike", "raises": "hike", "hikes": "hike",
    "wins": "win", "beat": "win", "beats": "win", "defeat": "win", "defeats": "win", "winner": "win",
    "btc": "bitcoin", "eth": "ethereum", "bp": "bps", "basis": "bps", "points": "",
    "unchanged": "hold", "pause": "hold", "holds": "hold",
    "announces": "announce", "announced": "announce",
}
_STOP = frozenset("""a an the of on in at by be to for and or is are was will would does do did vs v versus
game match market markets price yes no before after than this that with from who which what when
between any its it as if into during end ends day year bps pct percent""".split())
_MONTHS = {m: i + 1 for i, m in enumerate(
    "jan feb mar apr may jun jul aug sep oct nov dec".split())}
_MONTH_RE = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DATE_RE = re.compile(_MONTH_RE + r"\s+(\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s+(\d{4}))?", re.I)
_ISO_DATE_RE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_UP = r"above|over|greater than|more than|higher than|exceeds?|at least|reach(?:es)?|hits?|>=|>|≥"
_DOWN = r"below|under|less than|lower than|fewer than|at most|<=|<|≤"
_NUM = r"\$?\s*(\d[\d,]*(?:\.\d+)?)\s*(?:(bps|bp|bn|k|m|b|%)(?![a-z]))?"
_PRE_RE = re.compile(rf"\b({_UP}|{_DOWN})\s*{_NUM}", re.I)
_POST_RE = re.compile(rf"{_NUM}\s*(\+|or (?:more|above|higher|over)|or (?:less|below|lower|under))", re.I)
_BARE_RE = re.compile(_NUM, re.I)
# "A vs B" / "A @ B"; not "at", which titles use for times and places as often as for games.
_MATCHUP_RE = re.compile(r"([\w.'&]+(?:\s+[\w.'&]+){0,3})\s+(?:vs\.?|v\.?|versus|@)\s+([\w.'&]+(?:\s+[\w.'&]+){0,3})",
                         re.I)
_PLACEHOLDER_RE = re.compile(
    r"^(other|others|another|any other|field|the field|none|none of the above|"
    r"(person|candidate|team|player|option|company|country) [a-z0-9])$", re.I)
_PLACEHOLDER_Q_RE = re.compile(r"\b(another|any other|other) (candidate|person|team|player|company|country|nominee)\b", re.I)
_TIE_RE = re.compile(r"\b(tie|draw|50-50|\$0\.50|postpone|cancel)", re.I)


@dataclass(frozen=True)
class Quantity:
    """A number named in a text, with its direction: +1 above, -1 below, 0 none."""

    value: Decimal
    direction: int


@dataclass(frozen=True)
class Orientation:
    """Which Polymarket tokens pay when the Kalshi market resolves YES / NO."""

    yes: Outcome
    no: Outcome


@dataclass
class Candidate:
    """One scored Kalshi x Polymarket pairing with its evidence."""

    kalshi: Market
    polymarket: Market
    score: float
    orientation: Orientation | None
    flags: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # why each flag/penalty applies
    rank: int = 0  # 1 = best candidate for this Kalshi market

    @property
    def blocked(self) -> bool:
        """A blocking trap: never written as a pair whatever the score."""
        return any(f in BLOCKING for f in self.flags)

    @property
    def close_gap(self) -> dt.timedelta | None:
        k, p = self.kalshi.close_time, self.polymarket.close_time
        return abs(k - p) if k and p else None


def _normalise(text: str) -> str:
    text = text.replace("’", "'").replace("–", "-").replace("—", "-")
    text = re.sub(r"\bno change\b", "hold", text, flags=re.I)  # the Fed bucket both venues list
    return re.sub(r"\bvs\.", "vs", text)


@lru_cache(maxsize=1 << 16)  # one market's texts are compared with many candidates
def words(text: str) -> tuple[str, ...]:
    """Content words, lower case, synonyms folded, stop words, numbers and months dropped."""
    out = []
    for raw in re.findall(r"[a-z][a-z'&.]*", _normalise(text).lower()):
        word = raw.strip(".'").replace("'s", "")
        word = _SYNONYMS.get(word, word)
        if len(word) < 2 or word in _STOP or word[:3] in _MONTHS and (len(word) <= 4 or word.startswith(
                ("january", "february", "march", "april", "june", "july", "august", "september",
                 "october", "november", "december"))):
            continue
        out.append(word)
    return tuple(out)


def _scale(number: str, unit: str | None) -> Decimal:
    value = Decimal(number.replace(",", ""))
    unit = (unit or "").lower()
    return value * {"k": 1000, "m": 10**6, "b": 10**9, "bn": 10**9}.get(unit, 1)


def _date_spans(text: str) -> list[tuple[int, int]]:
    spans = [m.span() for m in _DATE_RE.finditer(text)] + [m.span() for m in _ISO_DATE_RE.finditer(text)]
    spans += [m.span() for m in re.finditer(r"\b(19|20)\d{2}\b", text)]
    return spans


@lru_cache(maxsize=1 << 16)
def quantities(text: str) -> tuple[Quantity, ...]:
    """Numbers named in a text (dates and years excluded), with their direction."""
    text = _normalise(text)
    taken = _date_spans(text)
    out: list[Quantity] = []

    def free(span: tuple[int, int]) -> bool:
        return not any(a < span[1] and span[0] < b for a, b in taken)

    for m in _PRE_RE.finditer(text):
        if free(m.span(2)):
            word = m.group(1).lower()
            up = re.fullmatch(_UP, word) is not None
            out.append(Quantity(_scale(m.group(2), m.group(3)), 1 if up else -1))
            taken.append(m.span())
    for m in _POST_RE.finditer(text):
        if free(m.span(1)):
            tail = m.group(3).lower()
            up = tail == "+" or any(w in tail for w in ("more", "above", "higher", "over"))
            out.append(Quantity(_scale(m.group(1), m.group(2)), 1 if up else -1))
            taken.append(m.span())
    for m in _BARE_RE.finditer(text):
        before = text[max(0, m.start(1) - 1):m.start(1)]
        if free(m.span(1)) and not re.search(r"[a-z0-9.]", before, re.I):
            out.append(Quantity(_scale(m.group(1), m.group(2)), 0))
    return tuple(out)


@lru_cache(maxsize=1 << 16)
def dates(text: str) -> frozenset[tuple[int, int]]:
    """(month, day) pairs named in a text."""
    out = {(_MONTHS[m.group(1).lower()[:3]], int(m.group(2))) for m in _DATE_RE.finditer(text)
           if 1 <= int(m.group(2)) <= 31}
    out |= {(int(m.group(2)), int(m.group(3))) for m in _ISO_DATE_RE.finditer(text)}
    return frozenset(out)


@lru_cache(maxsize=1 << 16)
def _without_matchups(text: str) -> str:
    return _MATCHUP_RE.sub(" ", _normalise(text))


def is_placeholder(market: Market) -> bool:
    """A neg-risk "Other" / placeholder outcome (settles on whatever the named ones do not)."""
    subject = market.subject.strip()
    if subject and _PLACEHOLDER_RE.match(subject):
        return True
    return bool(_PLACEHOLDER_Q_RE.search(market.title))


class Idf:
    """Inverse document frequencies over a set of documents (rare words weigh most)."""

    def __init__(self, docs: Iterable[Sequence[str]]) -> None:
        df: Counter[str] = Counter()
        n = 0
        for doc in docs:
            n += 1
            df.update(set(doc))
        self.n = max(n, 1)
        self.df = df

    @classmethod
    def of(cls, markets: Iterable[Market]) -> Idf:
        """Weights over the documents of these markets."""
        return cls(document(m) for m in markets)

    def weight(self, word: str) -> float:
        return math.log((1 + self.n) / (1 + self.df.get(word, 0))) + 1.0

    def vector(self, doc: Sequence[str]) -> dict[str, float]:
        counts = Counter(doc)
        vec = {w: (1 + math.log(c)) * self.weight(w) for w, c in counts.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        return {w: v / norm for w, v in vec.items()}


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    """Cosine similarity of two unit vectors."""
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(w, 0.0) for w, v in a.items())


def _text(market: Market) -> str:
    return " ".join(filter(None, (market.title, market.subject, market.event_title)))


@lru_cache(maxsize=1 << 16)
def months(text: str) -> frozenset[tuple[int, int]]:
    """(year, month) pairs named as "January 2027" / "Jan 2027"."""
    return frozenset((int(m.group(2)), _MONTHS[m.group(1).lower()[:3]])
                     for m in re.finditer(_MONTH_RE + r",?\s+((?:19|20)\d{2})\b", text, re.I))


@lru_cache(maxsize=1 << 16)
def years(text: str) -> frozenset[int]:
    """Years (19xx/20xx) named in a text."""
    return frozenset(int(y) for y in re.findall(r"\b((?:19|20)\d{2})\b", text))


def label_words(market: Market, outcome: Outcome) -> frozenset[str]:
    """An outcome label's words, widened by the full name the rules give it.

    Polymarket labels are often nicknames ("Bengals") that the description writes out in full
    ("the Cincinnati Bengals"), while Kalshi names the city ("Cincinnati").
    """
    return _label_words(outcome.label.strip(), market.rules)


@lru_cache(maxsize=1 << 14)
def _label_words(label: str, rules: str) -> frozenset[str]:
    found = set(words(label))
    if label and label.lower() not in ("yes", "no"):
        m = re.search(r"((?:[A-Z][\w.'&-]*\s+){1,3})" + re.escape(label) + r"\b", rules)
        if m:
            found |= set(words(m.group(1)))
    return frozenset(found)


def document(market: Market) -> tuple[str, ...]:
    """The tokens a market is compared by."""
    # Words plus tokens for the numbers, dates and years the texts name, so that similarity (and
    # the candidate pool) tells "above 100k on Jan 6 2027" from the same words on another day.
    text = _text(market)
    marks = [f"#{q.value.normalize():f}" for q in quantities(text)]
    marks += [f"#{m}/{d}" for m, d in dates(text)] + [f"#{y}" for y in years(text)]
    marks += [f"#{y}-{m}" for y, m in months(text)]
    named = [w for o in market.outcomes if o.label.strip().lower() not in ("yes", "no")
             for w in sorted(label_words(market, o) - set(words(o.label)))]
    return words(text) + tuple(marks) + tuple(named)


def opponent(kalshi: Market) -> set[str]:
    """Words naming the side Kalshi's NO pays for in a head-to-head (the other team), if known."""
    subject = set(words(kalshi.subject))
    if not subject:
        return set()
    no_side = set(words(kalshi.no_subject)) - {"not"}
    if no_side and not no_side <= subject and not kalshi.no_subject.lower().startswith("not "):
        return no_side
    for text in (kalshi.title, kalshi.event_title):
        for m in _MATCHUP_RE.finditer(_normalise(text)):
            sides = [set(words(m.group(1))), set(words(m.group(2)))]
            if sides[0] & subject and not sides[1] & subject:
                return sides[1]
            if sides[1] & subject and not sides[0] & subject:
                return sides[0]
    return set()


def orient(kalshi: Market, poly: Market, idf: Idf | None = None) -> Orientation | None:
    """The Polymarket outcomes that pay on Kalshi YES and NO, by label; None if no label fits."""
    if len(poly.outcomes) != 2:
        return None
    labels = [o.label.strip().lower() for o in poly.outcomes]
    if sorted(labels) == ["no", "yes"]:
        yes = poly.outcomes[labels.index("yes")]
        no = poly.outcomes[labels.index("no")]
        return Orientation(yes, no)
    subject = set(words(kalshi.subject)) or set(words(kalshi.title)) - set(words(kalshi.event_title))
    weight = idf.weight if idf else (lambda w: 1.0)
    fit = [sum(weight(w) for w in subject & label_words(poly, o)) for o in poly.outcomes]
    if fit[0] == fit[1]:
        return None
    best = 0 if fit[0] > fit[1] else 1
    return Orientation(poly.outcomes[best], poly.outcomes[1 - best])


def _time_score(kalshi: Market, poly: Market, tolerance: dt.timedelta) -> tuple[float, dt.timedelta | None]:
    if poly.close_time is None or kalshi.close_time is None:
        return 0.5, None
    gap = min(abs(t - poly.close_time) for t in (kalshi.close_time, *kalshi.other_times))
    if gap <= tolerance:
        return 1.0 - 0.1 * (gap / tolerance), gap  # within tolerance the closer still ranks first
    return max(0.0, 1.0 - (gap - tolerance) / TIME_DECAY), gap


def _fmt(q: Quantity) -> str:
    sign = {1: "above ", -1: "below ", 0: ""}[q.direction]
    return f"{sign}{q.value.normalize():f}"


def compare_rules(kalshi: Market, poly: Market) -> list[str]:
    """Differences between the two rules texts that change how a pair settles."""
    notes = []
    kd, pd = dates(kalshi.rules), dates(poly.rules)
    if kd and pd and not kd & pd:
        notes.append(f"rules name different dates: Kalshi {_dates(kd)} vs Polymarket {_dates(pd)}")
    kq = {q.value for q in quantities(kalshi.rules) if q.direction}
    pq = {q.value for q in quantities(poly.rules) if q.direction}
    if kq and pq and not kq & pq:
        notes.append("rules name different thresholds: Kalshi "
                     f"{', '.join(f'{v.normalize():f}' for v in sorted(kq))} vs Polymarket "
                     f"{', '.join(f'{v.normalize():f}' for v in sorted(pq))}")
    kt, pt = _mentions_tie(kalshi.rules), _mentions_tie(poly.rules)
    if kalshi.rules and poly.rules and kt != pt:
        side = "Kalshi" if kt else "Polymarket"
        notes.append(f"only {side}'s rules say what happens on a tie, postponement or cancellation")
    return notes


@lru_cache(maxsize=1 << 14)
def _mentions_tie(rules: str) -> bool:
    return _TIE_RE.search(rules) is not None


def _dates(ds: frozenset[tuple[int, int]], ys: frozenset[int] = frozenset()) -> str:
    names = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
    return ", ".join([f"{names[m - 1]} {d}" for m, d in sorted(ds) if 1 <= m <= 12] + [str(y) for y in sorted(ys)])


def score_pair(kalshi: Market, poly: Market, idf: Idf, *, now: dt.datetime,
               tolerance: dt.timedelta = DEFAULT_CLOSE_TOLERANCE,
               vectors: tuple[dict, dict] | None = None) -> Candidate:
    """Score one pairing, orient it and flag its traps."""
    flags: list[str] = []
    notes: list[str] = []
    kv, pv = vectors or (idf.vector(document(kalshi)), idf.vector(document(poly)))
    similarity = cosine(kv, pv)
    time_score, gap = _time_score(kalshi, poly, tolerance)
    entity = 1.0
    penalty = 0.0

    orientation = orient(kalshi, poly, idf)
    named_outcomes = orientation is not None and orientation.yes.label.strip().lower() != "yes"
    subject = set(words(kalshi.subject))
    if named_outcomes and orientation is not None:
        other = opponent(kalshi)
        if other and not other & label_words(poly, orientation.no):
            flags.append(FLAG_SUBJECT)
            notes.append(f"the other side differs: Kalshi {kalshi.subject!r} against "
                         f"{' '.join(sorted(other))!r}, Polymarket {orientation.yes.label!r} against "
                         f"{orientation.no.label!r}")
            entity -= 0.4
            penalty += 0.35
    elif subject:
        theirs = set(words(_without_matchups(poly.title))) | set(words(_without_matchups(poly.subject)))
        if not subject & theirs:
            flags.append(FLAG_SUBJECT)
            notes.append(f"Kalshi's YES side {kalshi.subject!r} is not what the Polymarket question asks about")
            entity -= 0.4
            penalty += 0.35

    kq = quantities(f"{kalshi.title} {kalshi.subject}")
    pq = quantities(f"{poly.title} {poly.subject}")
    if kq:
        same = [(a, b) for a in kq for b in pq if a.value == b.value]
        if any(a.direction and b.direction and a.direction != b.direction for a, b in same):
            flags.append(FLAG_DIRECTION)
            a, b = next((a, b) for a, b in same if a.direction and b.direction and a.direction != b.direction)
            notes.append(f"threshold direction: Kalshi {_fmt(a)} vs Polymarket {_fmt(b)}")
            entity -= 0.5
            penalty += 0.4
        elif pq and not same:
            flags.append(FLAG_THRESHOLD)
            notes.append("numbers differ: Kalshi " + ", ".join(_fmt(q) for q in kq)
                         + " vs Polymarket " + ", ".join(_fmt(q) for q in pq))
            entity -= 0.4
            penalty += 0.3
        elif not pq:
            entity -= 0.2

    kd = dates(f"{kalshi.title} {kalshi.subject} {kalshi.event_title}")
    pd = dates(f"{poly.title} {poly.subject} {poly.event_title}")
    ky = years(f"{kalshi.title} {kalshi.subject} {kalshi.event_title}")
    py = years(f"{poly.title} {poly.subject} {poly.event_title}")
    if (kd and pd and not kd & pd) or (ky and py and not ky & py):
        flags.append(FLAG_DATE)
        notes.append(f"dates differ: Kalshi {_dates(kd, ky)} vs Polymarket {_dates(pd, py)}")
        entity -= 0.3
        penalty += 0.25

    if gap is not None and gap > tolerance:
        flags.append(FLAG_CLOSE_APART)
        notes.append(f"close times {_duration(gap)} apart (tolerance {_duration(tolerance)})")

    rule_notes = compare_rules(kalshi, poly)
    if rule_notes:
        flags.append(FLAG_RULES)
        notes.extend(rule_notes)
        penalty += 0.1 * len(rule_notes)

    if len(poly.outcomes) != 2 or kalshi.market_type != "binary":
        flags.append(FLAG_NON_BINARY)
        notes.append(f"Polymarket market has {len(poly.outcomes)} outcomes; Kalshi market_type "
                     f"{kalshi.market_type!r}")
        penalty += 0.2
    elif orientation is None:
        flags.append(FLAG_ORIENTATION)
        penalty += 0.2
        labels = ", ".join(repr(o.label) for o in poly.outcomes)
        notes.append(f"no Polymarket outcome ({labels}) names Kalshi's YES side {kalshi.subject or kalshi.title!r}")
    if poly.neg_risk:
        if is_placeholder(poly):
            flags.append(FLAG_PLACEHOLDER)
            notes.append(f"neg-risk placeholder outcome {poly.subject or poly.title!r}: it settles on "
                         "whatever the event's named outcomes do not")
        else:
            flags.append(FLAG_NEG_RISK)
    for market in (kalshi, poly):
        if market.status in (CLOSED, RESOLVED) or (market.close_time is not None and market.close_time <= now):
            if FLAG_CLOSED not in flags:
                flags.append(FLAG_CLOSED)
                penalty += 0.3  # not tradable: ranks below a live market with the same text
            notes.append(f"{market.venue} market {market.id} is {market.venue_status or market.status}"
                         + (" and past its close time" if market.close_time and market.close_time <= now else ""))
        elif market.status != OPEN and FLAG_NOT_OPEN not in flags:
            flags.append(FLAG_NOT_OPEN)
            notes.append(f"{market.venue} market {market.id} is {market.venue_status or market.status}")
    if kalshi.fees.rate is None or poly.fees.rate is None:
        flags.append(FLAG_FEES_UNKNOWN)
    k_yes = kalshi.outcomes[0].price if kalshi.outcomes else None
    if orientation is not None and k_yes is not None and orientation.yes.price is not None \
            and abs(k_yes - orientation.yes.price) > PRICE_GAP:
        flags.append(FLAG_PRICES)
        notes.append(f"Kalshi YES trades near {k_yes:.2f}, Polymarket {orientation.yes.label!r} near "
                     f"{orientation.yes.price:.2f}: check the orientation and the rules")

    entity = max(0.0, entity)
    score = max(0.0, min(1.0, 0.55 * similarity + 0.25 * time_score + 0.20 * entity - penalty))
    return Candidate(kalshi, poly, round(score, 4), orientation, flags, notes)


def _duration(delta: dt.timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.0f} h" if hours < 72 else f"{hours / 24:.1f} days"


@dataclass
class MatchResult:
    """Every Kalshi market's ranked candidates, and the one-to-one pairs worth writing."""

    ranked: dict[str, list[Candidate]]  # Kalshi ticker -> candidates, best first
    pairs: list[Candidate]  # rank-1, unblocked, >= min_score, each market used once; best first
    min_score: float

    def best(self) -> list[Candidate]:
        """Each Kalshi market's best candidate, best first."""
        tops = [c[0] for c in self.ranked.values() if c]
        return sorted(tops, key=lambda c: (-c.score, c.kalshi.id))


def match(kalshi: Sequence[Market], polymarket: Sequence[Market], *, now: dt.datetime,
          min_score: float = DEFAULT_MIN_SCORE, tolerance: dt.timedelta = DEFAULT_CLOSE_TOLERANCE,
          per_market: int = 5) -> MatchResult:
    """Rank Polymarket candidates for every Kalshi market and choose one-to-one pairs."""
    k_docs = [document(m) for m in kalshi]
    p_docs = [document(m) for m in polymarket]
    idf = Idf(k_docs + p_docs)
    p_vecs = [idf.vector(d) for d in p_docs]
    index: dict[str, list[int]] = defaultdict(list)
    for j, doc in enumerate(p_docs):
        for w in set(doc):
            index[w].append(j)
    common = max(COMMON_POSTINGS, len(polymarket) // 20)
    ranked: dict[str, list[Candidate]] = {}
    for i, market in enumerate(kalshi):
        k_vec = idf.vector(k_docs[i])
        shared: Counter[int] = Counter()
        for w in set(k_docs[i]):
            postings = index.get(w, ())
            if len(postings) > common:
                continue  # a word most markets share picks no one out; walking it costs the most
            for j in postings:
                shared[j] += idf.weight(w)  # type: ignore[assignment]
        pool = [j for j, _ in shared.most_common(MAX_CANDIDATES)]
        cands = [score_pair(market, polymarket[j], idf, now=now, tolerance=tolerance,
                            vectors=(k_vec, p_vecs[j])) for j in pool]
        # Blocked candidates sort after usable ones of the same score, so a trap never outranks
        # an equally good clean pairing.
        cands.sort(key=lambda c: (-c.score, c.blocked, c.polymarket.id))
        for rank, cand in enumerate(cands, 1):
            cand.rank = rank
        ranked[market.id] = cands[:per_market]
    chosen: list[Candidate] = []
    used_k: set[str] = set()
    used_p: set[str] = set()
    every = sorted((c for cs in ranked.values() for c in cs),
                   key=lambda c: (-c.score, c.blocked, c.kalshi.id, c.polymarket.id))
    for cand in every:
        if cand.score < min_score or cand.blocked or cand.orientation is None:
            continue
        if cand.kalshi.id in used_k or cand.polymarket.id in used_p:
            continue
        used_k.add(cand.kalshi.id)
        used_p.add(cand.polymarket.id)
        chosen.append(cand)
    return MatchResult(ranked, chosen, min_score)
