"""The Salesforce OAuth 2.0 JWT bearer assertion: a compact RS256 JWT, signed with cryptography.

    sign_assertion(key, issuer=CONSUMER_KEY, subject=USERNAME, audience=URL, now=...) -> str

No JWT library at run time: the format is three base64url parts, and the signature is
RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 section 3.3, "RS256"). (Named jwt_assertion, not jwt,
so it is never mistaken for PyJWT's `jwt` package.)
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from .errors import BadInputError, MismatchError, UnsupportedError
from .keys import PrivateKey, describe_key, same_public_key

# Salesforce rejects an assertion whose exp is more than 3 minutes away: "OAuth 2.0 JWT Bearer
# Flow for Server-to-Server Integration", help.salesforce.com (article remoteaccess_oauth_jwt_flow).
MAX_EXP_SECONDS = 180
DEFAULT_EXP_SECONDS = MAX_EXP_SECONDS
# Only the algorithm: Salesforce's own example header is {"alg":"RS256"}; typ is optional (RFC 7519 5.1).
HEADER = {"alg": "RS256"}


def check_exp_seconds(seconds: int) -> int:
    """`seconds` when it is an exp Salesforce accepts (1 to 180 seconds ahead), else BadInputError."""
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        raise TypeError("exp_seconds must be an int")
    if not 1 <= seconds <= MAX_EXP_SECONDS:
        raise BadInputError(
            f"the assertion's exp must be 1 to {MAX_EXP_SECONDS} seconds ahead, not {seconds} "
            "(Salesforce rejects an exp more than 3 minutes away)"
        )
    return seconds


def b64url(data: bytes) -> str:
    """base64url without padding, as JWS uses it (RFC 7515 section 2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _json_part(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def claims(*, issuer: str, subject: str, audience: str, exp_seconds: int = DEFAULT_EXP_SECONDS,
           now: dt.datetime | None = None) -> dict[str, Any]:
    """The claims Salesforce reads: iss (consumer key), sub (username), aud (login URL), exp."""
    check_exp_seconds(exp_seconds)
    for label, value in (("issuer (the connected app's consumer key)", issuer),
                         ("subject (the Salesforce username)", subject),
                         ("audience (the login URL)", audience)):
        if not isinstance(value, str) or not value.strip():
            raise BadInputError(f"the {label} must not be empty")
    now = now or dt.datetime.now(dt.timezone.utc)
    if now.tzinfo is None:
        raise TypeError("now must be timezone-aware")
    # exp is NumericDate: whole seconds since the epoch (RFC 7519 section 2)
    return {"iss": issuer, "sub": subject, "aud": audience, "exp": int(now.timestamp()) + exp_seconds}


def sign_assertion(key: PrivateKey, *, issuer: str, subject: str, audience: str,
                   exp_seconds: int = DEFAULT_EXP_SECONDS, now: dt.datetime | None = None,
                   what: str = "the key", certificate: x509.Certificate | None = None) -> str:
    """A compact JWT bearer assertion signed with `key` (RS256). `what` names the key in errors.
    With `certificate` (the one uploaded to the connected app), a key that does not match it is
    refused: Salesforce checks the signature with that certificate and would refuse the JWT."""
    if certificate is not None and not same_public_key(key.public_key(), certificate.public_key()):
        raise MismatchError(f"{what} does not match its certificate {certificate.subject.rfc4514_string()}: "
                            "Salesforce checks the assertion with that certificate and would refuse it")
    if not isinstance(key, rsa.RSAPrivateKey):
        raise UnsupportedError(
            f"{what} is {describe_key(key)}; the Salesforce JWT bearer flow signs with RS256, "
            "which needs an RSA key"
        )
    body = claims(issuer=issuer, subject=subject, audience=audience, exp_seconds=exp_seconds, now=now)
    signing_input = f"{_json_part(HEADER)}.{_json_part(body)}"
    signature = key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64url(signature)}"
