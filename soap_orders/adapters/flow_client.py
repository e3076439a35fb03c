"""HTTP client for the consumer's Flow Execution API, and the relay's backoff schedule.

One pooled ``requests.Session`` with HTTP Basic (API key and secret), JSON bodies, no redirects
followed and no retries of its own: the relay decides what to do with each answer. The secret is
never logged or shown in a repr; answers are kept only as a short, printable excerpt.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from tenacity import RetryCallState, wait_exponential, wait_random

from .. import __version__
from ..service.relay import Backoff, Delivery

#: Bytes of an answer's body kept for the outbox row (and read at all).
MAX_EXCERPT = 500


class RequestsFlowClient:
    def __init__(self, endpoint: str, api_key: str, api_secret: str, *, connect_timeout: float,
                 read_timeout: float, pool_size: int = 4) -> None:
        self.endpoint = endpoint
        self.timeout = (connect_timeout, read_timeout)
        self.session = requests.Session()
        self.session.auth = (api_key, api_secret)
        self.session.headers.update({
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": f"soap-orders/{__version__}",
        })
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)

    def __repr__(self) -> str:
        return f"RequestsFlowClient({self.endpoint!r})"

    def post(self, body: dict[str, Any]) -> Delivery:
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        try:
            with self.session.post(self.endpoint, data=data, timeout=self.timeout, allow_redirects=False,
                                   stream=True) as response:
                excerpt = _read_excerpt(response)
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                return Delivery(response.status_code, excerpt, retry_after)
        except requests.Timeout:
            return Delivery(None, "timed out")
        except requests.ConnectionError:
            return Delivery(None, "connection failed")
        except requests.RequestException as error:
            return Delivery(None, f"request failed ({type(error).__name__})")

    def close(self) -> None:
        self.session.close()


def _read_excerpt(response: requests.Response) -> str:
    """The start of the body as printable text; an unread rest closes the connection instead of
    pooling it, so a huge answer is never read whole."""
    raw = b""
    for chunk in response.iter_content(chunk_size=MAX_EXCERPT):
        raw += chunk
        if len(raw) >= MAX_EXCERPT:
            break
    text = raw[:MAX_EXCERPT].decode(response.encoding or "utf-8", errors="replace")
    return "".join(ch if ch.isprintable() else " " for ch in text).strip()


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date); None if absent
    or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    seconds = (when - (now or datetime.now(timezone.utc))).total_seconds()
    return max(seconds, 0.0) if math.isfinite(seconds) else None


def exponential_backoff(initial: float, maximum: float) -> Backoff:
    """tenacity's exponential wait plus random jitter: ``initial * 2**(n-1)`` (at most ``maximum``)
    and up to ``initial`` more, never more than ``maximum`` seconds in all."""
    wait = wait_exponential(multiplier=initial, max=maximum) + wait_random(0, initial)

    def seconds(failures: int) -> float:
        state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
        state.attempt_number = max(failures, 1)
        return min(float(wait(state)), maximum)

    return seconds
