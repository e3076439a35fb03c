"""API clients: who may call, with which scopes, from which addresses."""

from __future__ import annotations

import enum
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from .errors import ValidationError


class Scope(str, enum.Enum):
    READ = "orders:read"  # FindOrdersByEmail, GetOrder
    ACT = "orders:act"  # CancelOrder, IssueRefund and later actions
    ERP = "erp"  # ERP-facing operations
    PRIVACY = "privacy"  # ForgetCustomer, ExportCustomerData: customers' privacy requests


#: DG's published source addresses, usable by name in allowlists.
PRESETS: dict[str, tuple[str, ...]] = {
    "dg-us": ("35.167.19.246/32",),
    "dg-eu": ("18.197.240.87/32",),
    "dg-test": ("109.70.151.103/32",),
}

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(entries: Iterable[str]) -> tuple[str, ...]:
    """Normalise allowlist entries (CIDRs, single addresses or preset names) to CIDR strings."""
    networks: list[str] = []
    for entry in entries:
        entry = entry.strip()
        if not entry:
            continue
        if entry in PRESETS:
            networks.extend(PRESETS[entry])
            continue
        try:
            networks.append(str(ipaddress.ip_network(entry, strict=False)))
        except ValueError:
            presets = ", ".join(PRESETS)
            raise ValidationError(f"Allowlist entries must be CIDRs, addresses or one of: {presets}.", "allow") from None
    return tuple(dict.fromkeys(networks))


def address_in(address: str | None, networks: Iterable[str]) -> bool:
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net) for net in networks)


def client_address(remote_addr: str | None, forwarded_for: str | None, trusted_proxies: Iterable[str]) -> str | None:
    """The caller's address: the peer's, unless the peer is a trusted proxy, in which case the
    right-most X-Forwarded-For entry that is not itself a trusted proxy."""
    trusted = tuple(trusted_proxies)
    if not address_in(remote_addr, trusted) or not forwarded_for:
        return remote_addr
    for hop in reversed([part.strip() for part in forwarded_for.split(",")]):
        if not address_in(hop, trusted):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return None  # a proxy we trust passed on garbage: treat the caller as unknown
    return remote_addr


_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


@dataclass(eq=False)
class ApiClient:
    name: str
    scopes: frozenset[Scope]
    secret_hash: str
    created_at: datetime
    allowed_networks: tuple[str, ...] = ()
    #: The secret, encrypted, for clients that may use WS-Security PasswordDigest.
    encrypted_secret: str | None = None
    disabled: bool = False
    secret_rotated_at: datetime | None = None

    @staticmethod
    def check_name(name: str) -> str:
        if not 1 <= len(name) <= 64 or not set(name) <= _NAME_CHARS:
            raise ValidationError("A client name is 1-64 letters, digits, '-', '_' or '.'.", "name")
        return name

    @property
    def supports_digest(self) -> bool:
        return self.encrypted_secret is not None

    def allows_address(self, address: str | None) -> bool:
        """No per-client list means any address (the global allowlist still applies)."""
        return not self.allowed_networks or address_in(address, self.allowed_networks)

    def has_scope(self, scope: Scope) -> bool:
        return scope in self.scopes
