"""Secrets handed to people (session, e-mail and OAuth tokens) are random and stored only as
SHA-256 hashes; passwords are hashed with Argon2."""

from __future__ import annotations

import base64
import hashlib
import secrets

from pwdlib import PasswordHash

_passwords = PasswordHash.recommended()  # Argon2id


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str) -> str:
    return _passwords.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    if password_hash is None:
        _passwords.hash(password)  # same cost either way: no timing hint that the account exists
        return False
    return _passwords.verify(password, password_hash)


def pkce_pair() -> tuple[str, str]:
    """A PKCE code verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
