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
        raise _hash_mismatch(data, storepass, kind) from None
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


def _hash_mismatch(data: bytes, storepass: str, kind: str) -> Exception:
    """The integrity hash covers the password and the content, so a mismatch means either. A key
    entry that the same password decrypts (its protection has a check value) shows the password
    is right, and so the file was altered."""
    store = pyjks.KeyStore.loads(data, None, try_decrypt_keys=False)
    for item in store.private_keys.values():
        try:
            _decrypt(item, storepass, kind)
        except (WrongPasswordError, BadInputError):
            continue
        return BadInputError(f"the {kind} keystore was altered or damaged: its integrity hash does not match, "
                             "though the password opens its key")
    return WrongPasswordError(f"wrong store password for the {kind} keystore (or the file was altered: "
                              "its integrity hash does not match)")


def _cert(der: bytes) -> x509.Certificate:
    return certs.load_certificates(der, what="a certificate in the keystore")[0]


def _decrypt(item, keypass: str, kind: str):
    if kind == "JCEKS":
        _check_jceks_rounds(item)
    try:
        item.decrypt(keypass)
    except (pyjks.util.DecryptionFailureException, ValueError):
        # (pyjks raises ValueError for a non-ASCII password on a JCEKS key: wrong, too)
        raise WrongPasswordError(
            f"wrong key password for entry {item.alias!r} in the {kind} keystore"
        ) from None
    except Exception:  # noqa: BLE001 - damaged ASN.1 inside the protected key
        raise BadInputError(f"the key of entry {item.alias!r} in the {kind} keystore is damaged") from None
    return load_private_key(item.pkey_pkcs8, what=f"the key of entry {item.alias!r}")


# Java reads JCEKS keys protected with at most 5000000 rounds (jdk.jceks.iterationCount's cap);
# refusing more keeps a damaged or hostile count from running for hours.
MAX_JCEKS_ROUNDS = 5_000_000


def _check_jceks_rounds(item) -> None:
    from jks import rfc2898
    from pyasn1.codec.der import decoder
    from pyasn1_modules import rfc5208

    try:
        info = decoder.decode(item._encrypted, asn1Spec=rfc5208.EncryptedPrivateKeyInfo())[0]
        params = decoder.decode(info["encryptionAlgorithm"]["parameters"].asOctets(),
                                asn1Spec=rfc2898.PBEParameter())[0]
        rounds = int(params["iterationCount"])
    except Exception:  # noqa: BLE001
        raise BadInputError(f"the key of entry {item.alias!r} in the JCEKS keystore is damaged") from None
    if rounds > MAX_JCEKS_ROUNDS:
        raise BadInputError(f"the key of entry {item.alias!r} claims {rounds} protection rounds; "
                            f"Java reads at most {MAX_JCEKS_ROUNDS}")
