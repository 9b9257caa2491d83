"""Callback data: ``action:arg:...:sig`` in at most 64 bytes.

Every button names its action and arguments (request id and state version for
workflow buttons) and carries a short HMAC, so a forged or altered button is
recognised as such before anything is looked up. Authorisation against the
current state and the tapping user's role happens afterwards, on every tap.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

MAX_BYTES = 64
SIG_BYTES = 6  # 8 base64url characters


@dataclass(frozen=True)
class Callback:
    action: str
    args: tuple[str, ...]

    def int(self, i: int) -> int:
        return int(self.args[i])


class CallbackCodec:
    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"splp-bot/callback/v1\x00" + secret.encode()).digest()

    def _sig(self, body: str) -> str:
        mac = hmac.new(self._key, body.encode(), hashlib.sha256).digest()[:SIG_BYTES]
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")

    def encode(self, action: str, *args: object) -> str:
        parts = [action, *(str(a) for a in args)]
        if any(":" in p for p in parts):
            raise ValueError("':' is reserved in callback data")
        body = ":".join(parts)
        data = f"{body}:{self._sig(body)}"
        if len(data.encode()) > MAX_BYTES:
            raise ValueError(f"callback data too long ({len(data.encode())} bytes): {action}")
        return data

    def decode(self, data: str | None) -> Callback | None:
        """The callback, or None if the data is malformed or its signature is wrong."""
        if not data or len(data.encode()) > MAX_BYTES:
            return None
        body, _, sig = data.rpartition(":")
        if not body or not hmac.compare_digest(sig.encode(), self._sig(body).encode()):
            return None
        action, *args = body.split(":")
        return Callback(action, tuple(args))
