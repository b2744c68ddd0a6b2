"""JKS through pyjks: writing JKS, and reading both JKS and JCEKS (same container)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import jks as pyjks
from cryptography import x509

from .. import certs
from ..errors import BadInputError, WrongPasswordError
from ..keys import load_private_key, private_key_to_der
from . import Entry, Keystore, StoreType, java_millis


def build(entries: Sequence[Entry], storepass: str, keypass: str) -> bytes:
    """A JKS keystore. Each key is encrypted with keypass before saving: pyjks would otherwise
    protect still-plain keys with the store password."""
    items = []
    for entry in entries:
        if entry.is_key_entry:
            item = pyjks.PrivateKeyEntry.new(
                entry.alias, [certs.to_der(c) for c in entry.chain], private_key_to_der(entry.key)
            )
            item.encrypt(keypass)
        else:
            item = pyjks.TrustedCertEntry.new(entry.alias, certs.to_der(entry.chain[0]))
        item.timestamp = java_millis(entry.timestamp)
        items.append(item)
    return pyjks.KeyStore.new("jks", items).saves(storepass)


def load(data: bytes, storepass: str, keypass: str | None) -> Keystore:
    """Read a JKS or JCEKS keystore; decrypt each key with keypass unless it is None."""
    kind = "JCEKS" if data[:4] == b"\xce\xce\xce\xce" else "JKS"
    try:
        store = pyjks.KeyStore.loads(data, storepass, try_decrypt_keys=False)
    except pyjks.util.KeystoreSignatureException:
        raise WrongPasswordError(
            f"wrong store password for the {kind} keystore, or the file was altered "
            "(its integrity hash does not match)"
        ) from None
    except Exception:  # noqa: BLE001 - pyjks raises struct, pyasn1 and its own errors on damage
        raise BadInputError(f"the {kind} keystore is corrupted or truncated") from None
    entries = []
    try:
        for alias, item in store.entries.items():
            when = dt.datetime.fromtimestamp(item.timestamp / 1000, dt.timezone.utc)
            if isinstance(item, pyjks.PrivateKeyEntry):
                chain = tuple(_cert(der) for _, der in item.cert_chain)
                key = _decrypt(item, keypass, kind) if keypass is not None else None
                entries.append(Entry(alias=alias, chain=chain, key=key, timestamp=when))
            elif isinstance(item, pyjks.TrustedCertEntry):
                entries.append(Entry(alias=alias, chain=(_cert(item.cert),), is_key_entry=False,
                                     timestamp=when))
            # secret key entries (JCEKS) are not certificates or key pairs: not ours to describe
    except (WrongPasswordError, BadInputError):
        raise
    except Exception:  # noqa: BLE001
        raise BadInputError(f"the {kind} keystore holds an entry that cannot be read") from None
    return Keystore(type=StoreType.JCEKS if kind == "JCEKS" else StoreType.JKS, entries=tuple(entries))


def _cert(der: bytes) -> x509.Certificate:
    return certs.load_certificates(der, what="a certificate in the keystore")[0]


def _decrypt(item, keypass: str, kind: str):
    try:
        item.decrypt(keypass)
    except (pyjks.util.DecryptionFailureException, ValueError):
        # (pyjks raises ValueError for a non-ASCII password on a JCEKS key: wrong, too)
        raise WrongPasswordError(
            f"wrong key password for entry {item.alias!r} in the {kind} keystore"
        ) from None
    return load_private_key(item.pkey_pkcs8, what=f"the key of entry {item.alias!r}")
