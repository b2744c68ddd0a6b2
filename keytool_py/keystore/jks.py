"""JKS: written by our own code (the JavaKeyStore container with Sun's key protection), and
JKS and JCEKS read through pyjks. pyjks is imported only to read: it costs 0.15 s to import,
a third of what a whole `ktpy kit` takes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Sequence

from cryptography import x509

from .. import certs
from ..errors import BadInputError, WrongPasswordError
from ..keys import load_private_key
from . import Entry, Keystore, StoreType, javaks

MAGIC = b"\xfe\xed\xfe\xed"
# Sun's proprietary key protection (sun.security.provider.KeyProtector).
KEY_PROTECTOR_OID = "1.3.6.1.4.1.42.2.17.1.1"
SALT_LENGTH = 20


def protect_key(pkcs8: bytes, password: str, *, salt: bytes | None = None) -> bytes:
    """An EncryptedPrivateKeyInfo as Java's JKS KeyProtector writes it: a 20-byte salt, the key
    XORed with a SHA-1 keystream (each block SHA-1(password as UTF-16BE + previous block), the
    first over the salt), then SHA-1(password + key) as the check value Java verifies."""
    secret = password.encode("utf-16-be")
    salt = salt or os.urandom(SALT_LENGTH)
    stream, digest = bytearray(), salt
    while len(stream) < len(pkcs8):
        digest = hashlib.sha1(secret + digest).digest()
        stream += digest
    xored = (int.from_bytes(pkcs8, "big") ^ int.from_bytes(stream[:len(pkcs8)], "big")).to_bytes(len(pkcs8), "big")
    protected = salt + xored + hashlib.sha1(secret + pkcs8).digest()
    algorithm = javaks.seq(javaks.oid(KEY_PROTECTOR_OID) + javaks.NULL)
    return javaks.seq(algorithm + javaks.octets(protected))


def build(entries: Sequence[Entry], storepass: str, keypass: str) -> bytes:
    """A JKS keystore; every key protected with keypass."""
    return javaks.encode(MAGIC, entries, storepass, lambda pkcs8: protect_key(pkcs8, keypass))


def load(data: bytes, storepass: str, keypass: str | None, *, only: str | None = None) -> Keystore:
    """Read a JKS or JCEKS keystore; decrypt each key (or only the entry `only`, by Java's
    case-insensitive alias) with keypass, unless keypass is None."""
    import jks as pyjks

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
                wanted = keypass is not None and (only is None or alias.lower() == only.lower())
                key = _decrypt(item, keypass, kind) if wanted else None
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
    import jks as pyjks

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
    import jks as pyjks

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
