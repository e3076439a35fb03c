"""Client secrets: generated at random, stored only as scrypt hashes, compared in constant time."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from functools import cache

# scrypt cost: about 16 MiB and some tens of milliseconds per check.
_N, _R, _P = 2**14, 8, 1
_MAX_MEM = 64 * 1024 * 1024


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=_N, r=_R, p=_P, maxmem=_MAX_MEM)
    return "$".join(("scrypt", str(_N), str(_R), str(_P), _b64(salt), _b64(digest)))


def verify_secret(secret: str, stored: str) -> bool:
    """True when ``secret`` matches ``stored``. Successful checks are remembered per process
    (keyed by digests of both, so a rotated secret is never matched by an old entry)."""
    key = hashlib.sha256(secret.encode()).hexdigest()
    return _verified(key, stored) or _verify(secret, stored, key)


_REMEMBERED: set[tuple[str, str]] = set()


def _verified(key: str, stored: str) -> bool:
    return (key, stored) in _REMEMBERED


def _verify(secret: str, stored: str, key: str) -> bool:
    try:
        scheme, n, r, p, salt, expected = stored.split("$")
        if scheme != "scrypt":
            return False
        digest = hashlib.scrypt(
            secret.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), maxmem=_MAX_MEM
        )
    except (ValueError, TypeError):
        return False
    matched = hmac.compare_digest(digest, base64.b64decode(expected))
    if matched:
        if len(_REMEMBERED) > 4096:
            _REMEMBERED.clear()
        _REMEMBERED.add((key, stored))
    return matched


@cache
def dummy_hash() -> str:
    """Checked against when the client is unknown, so that case costs what a wrong secret costs."""
    return hash_secret(new_secret())


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
