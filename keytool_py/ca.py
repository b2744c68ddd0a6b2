"""A certificate authority: creating a root or an intermediate, issuing from it, loading it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import PurePath

from cryptography import x509

from . import certs, issue, names
from .errors import BadInputError, MismatchError
from .keys import (
    KeyType,
    PrivateKey,
    PublicKey,
    generate_key,
    is_encrypted,
    load_private_key,
    private_key_to_pem,
    same_public_key,
)
from .p11uri import Pkcs11Uri

# A root CA key outlives many client keys: 3072-bit RSA is NIST's recommendation past 2030.
CA_KEY_TYPE = KeyType.RSA3072
# Clients default to RSA 2048: the JWT bearer flow needs RSA (RS256), and 2048 is what
# Salesforce's own self-signed certificates use.
CLIENT_KEY_TYPE = KeyType.RSA2048

# The CA folder (CA.files writes it, CA.from_files reads it): the certificate, its private key
# (PKCS#8, encrypted unless made with --no-password) and, for an intermediate, its chain. A CA
# whose key is in a PKCS#11 token has ca.pkcs11 (the key's URI, hsm.py) instead of ca.key.
CERT_FILE = "ca.pem"
KEY_FILE = "ca.key"
CHAIN_FILE = "ca-chain.pem"
TOKEN_FILE = "ca.pkcs11"


@dataclass(frozen=True)
class CA:
    """A CA's key and certificate, and its chain up to the root: (cert, parent, ..., root)."""

    key: PrivateKey
    cert: x509.Certificate
    chain: tuple[x509.Certificate, ...]

    @property
    def is_root(self) -> bool:
        return len(self.chain) == 1

    @property
    def root(self) -> x509.Certificate:
        return self.chain[-1]

    def issue_client(self, subject: str | x509.Name, *, key: PrivateKey | None = None,
                     key_type: KeyType | str = CLIENT_KEY_TYPE, days: int = issue.CLIENT_DAYS,
                     sans: Sequence[str | x509.GeneralName] = (),
                     now: dt.datetime | None = None) -> issue.LeafCert:
        """A new client certificate (clientAuth only) with a new key unless `key` is given."""
        return self._issue_leaf(issue.Profile.CLIENT, subject, key, key_type, days, sans, now)

    def issue_server(self, subject: str | x509.Name, *, key: PrivateKey | None = None,
                     key_type: KeyType | str = CLIENT_KEY_TYPE, days: int = issue.CLIENT_DAYS,
                     sans: Sequence[str | x509.GeneralName] = (),
                     now: dt.datetime | None = None) -> issue.LeafCert:
        """A new server certificate (serverAuth only)."""
        return self._issue_leaf(issue.Profile.SERVER, subject, key, key_type, days, sans, now)

    def certify(self, subject: x509.Name, public_key: PublicKey, *, profile: issue.Profile,
                days: int = issue.CLIENT_DAYS, sans: Sequence[x509.GeneralName] = (),
                now: dt.datetime | None = None) -> x509.Certificate:
        """Sign a leaf certificate for someone else's public key (the CSR path)."""
        return issue.sign(
            subject=subject, public_key=public_key, issuer_name=self.cert.subject,
            issuer_key=self.key, issuer_cert=self.cert, days=days, now=now,
            extensions=issue.leaf_extensions(public_key, profile, sans),
        )

    def sign_csr(self, csr: x509.CertificateSigningRequest, *,
                 profile: issue.Profile | str = issue.Profile.CLIENT, days: int = issue.CLIENT_DAYS,
                 now: dt.datetime | None = None) -> issue.SignedCert:
        """Certify a request's subject and key. Extensions come from the profile; of the request's
        own extensions only the subject alternative names are copied."""
        from .csr import check_supported_public, requested_sans

        profile = issue.Profile(profile) if isinstance(profile, str) else profile
        cert = self.certify(csr.subject, check_supported_public(csr.public_key()), profile=profile, days=days,
                            sans=requested_sans(csr), now=now)
        return issue.SignedCert(cert=cert, chain=(cert, *self.chain))

    def _issue_leaf(self, profile: issue.Profile, subject: str | x509.Name, key: PrivateKey | None,
                    key_type: KeyType | str, days: int, sans: Sequence[str | x509.GeneralName],
                    now: dt.datetime | None) -> issue.LeafCert:
        name = names.parse_subject(subject) if isinstance(subject, str) else subject
        general_names = [names.parse_san(s) if isinstance(s, str) else s for s in sans]
        key = key or generate_key(key_type)
        cert = self.certify(name, key.public_key(), profile=profile, days=days,
                            sans=general_names, now=now)
        return issue.LeafCert(key=key, cert=cert, chain=(cert, *self.chain))

    def files(self, password: str | None) -> dict[str, bytes]:
        """The CA folder's contents: ca.pem, ca.key (encrypted unless password is None) and, for an
        intermediate, ca-chain.pem (this CA, then its issuers). CA.from_files reads them back."""
        from . import hsm

        out = {CERT_FILE: certs.to_pem([self.cert])}
        if isinstance(self.key, hsm.TokenRSAKey | hsm.TokenECKey):  # the key stays in its token
            out[TOKEN_FILE] = hsm.token_file(self.key)
        else:
            out[KEY_FILE] = private_key_to_pem(self.key, password)
        if not self.is_root:
            out[CHAIN_FILE] = certs.to_pem(self.chain)
        return out

    @classmethod
    def from_files(cls, read: Callable[[str, str], bytes | None], password: Callable[[], str], *,
                   folder: str | PurePath = ".", now: dt.datetime | None = None,
                   pin: Callable[[Pkcs11Uri], str] | None = None) -> CA:
        """The CA whose folder CA.files() wrote. `read(name, what)` gives a file's bytes (None for
        an absent ca-chain.pem or ca.pkcs11); `password()` is asked only when ca.key is encrypted,
        `pin(uri)` only when the key is in a token (ca.pkcs11). `folder` names the files in messages."""
        folder = PurePath(folder)
        cert_data = read(CERT_FILE, "CA certificate")
        cert = certs.load_certificates(cert_data or b"", what=str(folder / CERT_FILE))[0]
        token_data = read(TOKEN_FILE, "token reference")
        key: PrivateKey
        if token_data is not None:
            from . import hsm

            uri = hsm.read_token_file(token_data, what=str(folder / TOKEN_FILE))
            key = hsm.open_key(uri, pin or (lambda _: password()))
        else:
            key_data = read(KEY_FILE, "CA key") or b""
            key = load_private_key(key_data, password() if is_encrypted(key_data) else None,
                                   what=f"the CA key {folder / KEY_FILE}")
        chain_data = read(CHAIN_FILE, "file")
        issuers = certs.load_certificates(chain_data, what=str(folder / CHAIN_FILE))[1:] if chain_data else []
        return load_ca(cert, key, issuers, what=f"the CA in {folder}", now=now)


def create_ca(subject: str | x509.Name, *, key_type: KeyType | str = CA_KEY_TYPE,
              days: int = issue.CA_DAYS, parent: CA | None = None, key: PrivateKey | None = None,
              now: dt.datetime | None = None) -> CA:
    """A new root CA, or an intermediate signed by `parent`.

    A root has no path length limit so it can have intermediates; an intermediate gets
    pathLenConstraint 0 (it issues leaves only), or one less than its parent's limit.
    """
    name = names.parse_subject(subject) if isinstance(subject, str) else subject
    key = key or generate_key(key_type)
    if parent is None:
        path_length = None
        cert = issue.sign(subject=name, public_key=key.public_key(), issuer_name=name,
                          issuer_key=key, issuer_cert=None, days=days, now=now,
                          extensions=issue.ca_extensions(key.public_key(), path_length))
        return CA(key=key, cert=cert, chain=(cert,))
    parent_limit = parent.cert.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length
    if parent_limit == 0:
        raise BadInputError("the parent CA's pathLenConstraint is 0: it cannot sign another CA")
    path_length = 0 if parent_limit is None else parent_limit - 1
    cert = issue.sign(subject=name, public_key=key.public_key(), issuer_name=parent.cert.subject,
                      issuer_key=parent.key, issuer_cert=parent.cert, days=days, now=now,
                      extensions=issue.ca_extensions(key.public_key(), path_length))
    return CA(key=key, cert=cert, chain=(cert, *parent.chain))


def load_ca(cert: x509.Certificate, key: PrivateKey, issuers: Sequence[x509.Certificate] = (),
            *, now: dt.datetime | None = None, what: str = "the CA") -> CA:
    """Check that a certificate and key can act as a CA now, and put the chain in order."""
    if not same_public_key(cert.public_key(), key.public_key()):
        raise MismatchError(f"{what}: the key does not match the certificate")
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        constraints = None
    if constraints is None or not constraints.ca:
        raise BadInputError(f"{what}: the certificate is not a CA (basicConstraints CA:TRUE is missing)")
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        if not usage.key_cert_sign:
            raise BadInputError(f"{what}: the certificate's key usage does not allow keyCertSign")
    except x509.ExtensionNotFound:
        pass  # no keyUsage extension means every usage is allowed (RFC 5280 4.2.1.3)
    now = now or issue.utcnow()
    if cert.not_valid_after_utc <= now:
        raise BadInputError(f"{what} expired on {cert.not_valid_after_utc:%Y-%m-%d}")
    if cert.not_valid_before_utc > now + issue.BACKDATE:
        raise BadInputError(f"{what} is not valid before {cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC")
    return CA(key=key, cert=cert, chain=certs.order_chain(cert, issuers))
