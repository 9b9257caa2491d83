"""Secrets at rest: Fernet (AES-128-CBC + HMAC-SHA256) from the `cryptography` package.

The key comes from ``SECRETS_KEY`` (one or more comma-separated Fernet keys; the first encrypts,
all decrypt, so keys can be rotated), or -- for the embedded SQLite default only -- from
``<DATA_DIR>/secrets.key``, generated on first run with owner-only permissions. Several
instances (PostgreSQL) must share ``SECRETS_KEY``.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

KEY_FILE = "secrets.key"


class VaultError(RuntimeError):
    pass


class Vault:
    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise VaultError("no key")
        self._f = MultiFernet([Fernet(k) for k in keys])

    def encrypt(self, plaintext: str) -> bytes:
        return self._f.encrypt(plaintext.encode())

    def decrypt(self, token: bytes) -> str:
        try:
            return self._f.decrypt(token).decode()
        except InvalidToken as e:
            raise VaultError("the secret cannot be decrypted with the configured key(s)") from e

    def __repr__(self) -> str:
        return "Vault(<keys hidden>)"


def load_vault(secrets_key: str, data_dir: Path, *, may_generate: bool) -> Vault | None:
    """The vault from SECRETS_KEY, or the data-dir key file (generated if allowed and missing)."""
    if secrets_key.strip():
        try:
            return Vault([k.strip().encode() for k in secrets_key.split(",") if k.strip()])
        except ValueError as e:
            raise VaultError("SECRETS_KEY is not a valid Fernet key (32 url-safe base64-encoded bytes)") from e
    path = data_dir / KEY_FILE
    if path.exists():
        return Vault([path.read_bytes().strip()])
    if not may_generate:
        return None
    data_dir.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    return Vault([key])
