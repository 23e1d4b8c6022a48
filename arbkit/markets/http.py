"""The one place arbkit talks HTTP to a venue's REST API: retries, backoff, 429, timeouts, cache.

Every GET goes through `RestClient.get_json`. A connection error, a timeout or a 5xx is retried
with exponential backoff; a 429 waits the `Retry-After` the venue sent (seconds or an HTTP date;
Kalshi sometimes sends none, then the backoff applies); any other 4xx is the caller's mistake and
fails at once. When the attempts run out the error is one line naming the venue and the URL.

Each successful response is cached on disk per query (venue, path and sorted parameters) with its
fetch time, so matching can be re-run offline on exactly the data it saw (`offline=True` reads
only the cache). The transport is a plain function, so tests could swap it; arbkit's tests use
the sandbox's real HTTP endpoints instead.

The standard library's urllib is enough here: requests are sequential pages of a listing, and it
adds no dependency.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import http.client
import json
import logging
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from arbkit.errors import UserError

log = logging.getLogger(__name__)

USER_AGENT = "arbkit-markets/1"
MAX_RETRY_AFTER_S = 60.0


class VenueError(UserError):
    """A venue's REST API was unreachable, refused the request, or answered something unusable."""


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes


# (url, timeout_s) -> response; raises OSError (incl. TimeoutError) when no response arrives.
Transport = Callable[[str, float], HttpResponse]


def urllib_transport(url: str, timeout: float) -> HttpResponse:
    """GET `url` with urllib; HTTP error statuses are returned, not raised."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:  # noqa: S310 (http/https only)
            return HttpResponse(resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read())
    except urllib.error.HTTPError as exc:
        body = exc.read() if exc.fp is not None else b""
        return HttpResponse(exc.code, {k.lower(): v for k, v in (exc.headers or {}).items()}, body)
    except urllib.error.URLError as exc:
        reason = exc.reason
        raise reason if isinstance(reason, OSError) else OSError(str(reason)) from None
    except http.client.HTTPException as exc:  # a connection dropped mid-response
        raise OSError(f"{type(exc).__name__}: {exc}") from None


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: attempts per request, per-attempt timeout, backoff between attempts."""

    attempts: int = 4
    timeout_s: float = 15.0
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 8.0

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        return min(self.backoff_max_s, self.backoff_initial_s * 2 ** (attempt - 1))


@dataclass(frozen=True)
class Fetched:
    """A decoded JSON response and when it was fetched (UTC)."""

    data: object
    fetched_at: dt.datetime
    url: str
    from_cache: bool = False


def retry_after_s(value: str | None, now: dt.datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date); None if absent."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return max(0.0, (when - now).total_seconds())


def error_detail(body: bytes) -> str:
    """A short reason from an error body (Kalshi: {"error": {"message", "details"}})."""
    try:
        data = json.loads(body)
    except ValueError:
        text = body.decode("utf-8", "replace").strip().splitlines()
        return text[0][:200] if text else ""
    if isinstance(data, dict):
        err = data.get("error", data)
        if isinstance(err, dict):
            parts = [str(err[k]) for k in ("message", "details") if err.get(k)]
            return ": ".join(parts)
        return str(err)[:200]
    return ""


@dataclass
class ResponseCache:
    """Responses on disk, one JSON file per query: {url, fetched_at, body}."""

    root: Path

    def path(self, venue: str, url: str) -> Path:
        return self.root / venue / (hashlib.sha256(url.encode()).hexdigest()[:32] + ".json")

    def load(self, venue: str, url: str) -> Fetched | None:
        path = self.path(venue, url)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise UserError(f"cannot read cached response {path}: {exc}") from None
        data = json.loads(raw["body"], parse_float=Decimal)
        return Fetched(data, dt.datetime.fromisoformat(raw["fetched_at"]), url, from_cache=True)

    def store(self, venue: str, url: str, body: bytes, fetched_at: dt.datetime) -> None:
        path = self.path(venue, url)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_text(json.dumps({"url": url, "fetched_at": fetched_at.isoformat(),
                                       "body": body.decode("utf-8", "replace")}), encoding="utf-8")
            os.replace(tmp, path)
        except OSError as exc:
            raise UserError(f"cannot write the REST cache under {self.root}: {exc.strerror or exc}") from None


def default_cache_dir() -> Path:
    """`$XDG_CACHE_HOME/arbkit/rest` (default ~/.cache/arbkit/rest)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "arbkit" / "rest"


def _param(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def query_url(base_url: str, path: str, params: dict[str, object] | None = None) -> str:
    """base + path + the parameters in sorted order (one query, one cache key); lists repeat."""
    items = sorted((k, _param(v)) for k, value in (params or {}).items() if value is not None
                   for v in (value if isinstance(value, list | tuple) else [value]))
    query = urllib.parse.urlencode(items)
    return base_url.rstrip("/") + path + (f"?{query}" if query else "")


@dataclass
class RestClient:
    """GET JSON from one venue's REST API with retries, rate-limit waits, timeouts and a cache."""

    venue: str
    base_url: str
    cache: ResponseCache | None = None
    offline: bool = False
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    transport: Transport = urllib_transport
    sleep: Callable[[float], None] = time.sleep
    requests: int = 0  # attempts sent (for tests and the CLI summary)

    def __post_init__(self) -> None:
        scheme = urllib.parse.urlsplit(self.base_url).scheme
        if scheme not in ("http", "https"):
            raise UserError(f"{self.venue} rest_url must be an http(s) URL, got {self.base_url!r}")

    def get_json(self, path: str, params: dict[str, object] | None = None) -> Fetched:
        """GET base_url+path?params and decode JSON (floats as Decimal); raise VenueError."""
        url = query_url(self.base_url, path, params)
        if self.offline:
            if self.cache is None:
                raise UserError("offline mode needs a response cache")
            cached = self.cache.load(self.venue, url)
            if cached is None:
                raise UserError(f"{self.venue}: no cached response for GET {url} (run once online to fill "
                                f"the cache under {self.cache.root})")
            return cached
        body, fetched_at = self._get(url)
        try:
            data = json.loads(body, parse_float=Decimal)
        except ValueError:
            raise VenueError(f"{self.venue} REST: malformed response from GET {url}: not JSON "
                             f"({len(body)} bytes)") from None
        if self.cache is not None:
            self.cache.store(self.venue, url, body, fetched_at)
        return Fetched(data, fetched_at, url)

    def _get(self, url: str) -> tuple[bytes, dt.datetime]:
        last = ""
        for attempt in range(1, self.policy.attempts + 1):
            self.requests += 1
            try:
                resp = self.transport(url, self.policy.timeout_s)
            except TimeoutError:
                last = f"timed out after {self.policy.timeout_s:g} s"
                wait = self.policy.backoff(attempt)
            except OSError as exc:
                last = str(exc.strerror or exc)
                wait = self.policy.backoff(attempt)
            else:
                now = dt.datetime.now(dt.timezone.utc)
                if 200 <= resp.status < 300:
                    return resp.body, now
                detail = error_detail(resp.body)
                if resp.status == 429:
                    last = "rate limited (HTTP 429)"
                    after = retry_after_s(resp.headers.get("retry-after"), now)
                    wait = min(MAX_RETRY_AFTER_S, after) if after is not None else self.policy.backoff(attempt)
                elif resp.status >= 500:
                    last = f"HTTP {resp.status}" + (f" {detail}" if detail else "")
                    wait = self.policy.backoff(attempt)
                else:
                    raise VenueError(f"{self.venue} REST: GET {url} answered HTTP {resp.status}"
                                     + (f": {detail}" if detail else ""))
            if attempt < self.policy.attempts:
                log.info("%s REST: %s on GET %s; retrying in %.2f s", self.venue, last, url, wait)
                self.sleep(wait)
        raise VenueError(f"{self.venue} REST unreachable: GET {url}: {last} "
                         f"({self.policy.attempts} attempts)")
