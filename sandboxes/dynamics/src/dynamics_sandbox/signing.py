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
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from jwt.algorithms import RSAAlgorithm

ALGORITHM = "RS256"
_CERTIFICATE_LIFETIME = timedelta(days=365 * 5)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class SigningKey:
    def __init__(self) -> None:
        self._private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.public_key = self._private.public_key()
        # Entra publishes each key with its self-issued certificate (x5c) and names the key by
        # the certificate's SHA-1 thumbprint: kid and x5t are the same value.
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "accounts.accesscontrol")])
        issued = datetime.now(UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(issued)
            .not_valid_after(issued + _CERTIFICATE_LIFETIME)
            .sign(self._private, hashes.SHA256())
        )
        der = certificate.public_bytes(serialization.Encoding.DER)
        self.kid = _b64url(hashlib.sha1(der, usedforsecurity=False).digest())
        public_jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(self.public_key))
        self._jwk = {
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "x5t": self.kid,
            "n": public_jwk["n"],
            "e": public_jwk["e"],
            "x5c": [base64.b64encode(der).decode("ascii")],
        }

    def jwks(self) -> dict[str, Any]:
        return {"keys": [dict(self._jwk)]}

    def sign(self, claims: dict[str, Any], *, x5t: bool = False) -> str:
        """`x5t`: the legacy header v1.0 access tokens repeat the kid in (claims reference)."""
        headers = {"kid": self.kid, "x5t": self.kid} if x5t else {"kid": self.kid}
        return jwt.encode(claims, self._private, algorithm=ALGORITHM, headers=headers)

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
