"""Secrets handed to people (session, e-mail and OAuth tokens) are random and stored only as
SHA-256 hashes; passwords are hashed with Argon2, in a worker thread: a hash takes a tenth of a
second of CPU, which on the event loop would stall every other request."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets

from pwdlib import PasswordHash

_passwords = PasswordHash.recommended()  # Argon2id


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_passwords.hash, password)


async def verify_password(password: str, password_hash: str | None) -> bool:
    """Whether `password` matches; without a hash (no such account, or no password chosen yet)
    a dummy password is hashed, so the answer takes as long either way: no timing hint that the
    account exists."""
    if password_hash is None:
        await hash_password(password)
        return False
    return await asyncio.to_thread(_passwords.verify, password, password_hash)


def pkce_pair() -> tuple[str, str]:
    """A PKCE code verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
