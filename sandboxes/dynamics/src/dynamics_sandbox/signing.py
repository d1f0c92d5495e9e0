"""The sandbox's token signing key: an RSA key made when the sandbox starts, published as a JWK
Set the way Entra publishes its keys, so clients verify tokens with the key named by `kid`.

Entra signs with RS256 and names the key in the token header's `kid`; its key set is served at
the discovery document's ``jwks_uri``
(https://learn.microsoft.com/en-us/entra/identity-platform/access-tokens#validate-the-signature).
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ALGORITHM = "RS256"


class SigningKey:
    def __init__(self) -> None:
        self._private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.public_key = self._private.public_key()
        public_jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(self.public_key))
        # The RFC 7638 thumbprint names the key; Entra's kid is likewise a digest of its key.
        canonical = json.dumps(
            {"e": public_jwk["e"], "kty": "RSA", "n": public_jwk["n"]},
            separators=(",", ":"),
            sort_keys=True,
        )
        digest = hashlib.sha256(canonical.encode("ascii")).digest()
        self.kid = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
        self._jwk = {
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "n": public_jwk["n"],
            "e": public_jwk["e"],
        }

    def jwks(self) -> dict[str, Any]:
        return {"keys": [dict(self._jwk)]}

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self._private, algorithm=ALGORITHM, headers={"kid": self.kid})

    def verify(self, token: str) -> dict[str, Any]:
        """The claims of a token this key signed (times and audience left to the caller)."""
        claims: dict[str, Any] = jwt.decode(
            token,
            self.public_key,
            algorithms=[ALGORITHM],
            options={
                "verify_exp": False,
                "verify_aud": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
        return claims
