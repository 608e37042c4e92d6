"""Secrets encrypted at rest (TOTP secrets), with Fernet keys from ENCRYPTION_KEY.

ENCRYPTION_KEY holds one or more comma-separated Fernet keys: the first encrypts, all decrypt,
so a key can be rotated by putting the new one first. Unset, a key is made once and kept in
instance/encryption_key (0600), apart from the database, so a copy of the database alone does
not give away anyone's second factor.
"""
from __future__ import annotations

from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import Flask, current_app

from .files import read_or_create_secret

FERNET_PREFIX = "gAAAAA"  # every Fernet token starts with its version byte and timestamp


class DecryptError(ValueError):
    """A stored value that no configured key can decrypt (a lost or wrong ENCRYPTION_KEY)."""


def _keys(app: Flask) -> MultiFernet:
    configured = str(app.config.get("ENCRYPTION_KEY") or "")
    if not configured:
        configured = read_or_create_secret(Path(app.instance_path) / "encryption_key",
                                           lambda: Fernet.generate_key().decode())
    try:
        return MultiFernet([Fernet(key.strip()) for key in configured.split(",") if key.strip()])
    except ValueError as error:
        raise ValueError("ENCRYPTION_KEY must be Fernet keys (32 url-safe base64 bytes), "
                         "comma-separated") from error


def _box() -> MultiFernet:
    app = current_app._get_current_object()
    if "sitedir_crypto" not in app.extensions:
        app.extensions["sitedir_crypto"] = _keys(app)
    return app.extensions["sitedir_crypto"]


def encrypt(value: str) -> str:
    return _box().encrypt(value.encode()).decode()


def decrypt(value: str) -> str:
    """The plain value; raises DecryptError when no configured key fits."""
    try:
        return _box().decrypt(value.encode()).decode()
    except InvalidToken as error:
        raise DecryptError("no ENCRYPTION_KEY decrypts this value") from error


def is_encrypted(value: str) -> bool:
    return value.startswith(FERNET_PREFIX)


def init_app(app: Flask) -> None:
    """Fail at start-up, not at an admin's first sign-in, when ENCRYPTION_KEY is malformed."""
    app.extensions["sitedir_crypto"] = _keys(app)
