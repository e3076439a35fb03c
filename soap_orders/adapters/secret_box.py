"""Authenticated encryption (Fernet) for secrets that must be recoverable, keyed by
SOAP_ORDERS_SECRET_KEY."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken


class SecretKeyError(ValueError):
    """The configured key cannot decrypt what was stored (it changed, or the data is damaged)."""


class FernetSecretBox:
    def __init__(self, key: str) -> None:
        if len(key) < 32:
            raise ValueError("SOAP_ORDERS_SECRET_KEY must be at least 32 characters of random text")
        # Any long random text is accepted as the key; Fernet wants 32 bytes, urlsafe-base64.
        self._fernet = Fernet(base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest()))

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode()
        except (InvalidToken, ValueError):
            raise SecretKeyError("a stored secret cannot be decrypted with SOAP_ORDERS_SECRET_KEY") from None
