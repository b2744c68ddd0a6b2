"""PKCS12 as Java's PKCS12KeyStore reads it, and written through cryptography or p12codec."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import KeySerializationEncryption, PrivateFormat, pkcs12

from .. import certs
from ..errors import BadInputError, UnsupportedError, WrongPasswordError
from ..keys import PrivateKey
from .model import Compat, Entry, EntryKind, Keystore, Sealed, SecretKey, StoreType, load_key, pkcs8_of

if TYPE_CHECKING:
    from .p12codec import Bag

# Java 17's own PKCS12 iteration count (keystore.pkcs12.keyPbeIterationCount).
ITERATIONS = 10_000

# Secret-key algorithms by Java's name and the OID Java's PKCS12KeyStore writes for them
# (sun.security.x509.AlgorithmId, KnownOIDs); a name not here cannot go into a PKCS12.
SECRET_KEY_OIDS = {
    "AES": "2.16.840.1.101.3.4.1",
    "DESede": "1.2.840.113549.3.7",
    "DES": "1.3.14.3.2.7",
    "HmacSHA1": "1.2.840.113549.2.7",
    "HmacSHA224": "1.2.840.113549.2.8",
    "HmacSHA256": "1.2.840.113549.2.9",
    "HmacSHA384": "1.2.840.113549.2.10",
    "HmacSHA512": "1.2.840.113549.2.11",
    "PBEWithMD5AndDES": "1.2.840.113549.1.5.3",
    "PBEWithSHA1AndDESede": "1.2.840.113549.1.12.1.3",
    "PBEWithSHA1AndRC2_40": "1.2.840.113549.1.12.1.6",
    "PBEWithHmacSHA256AndAES_256": "1.2.840.113549.1.5.13",
    "PBKDF2WithHmacSHA256": "1.2.840.113549.1.5.12",
}
_SECRET_KEY_NAMES = {v: k for k, v in SECRET_KEY_OIDS.items()}


# What the Java 8 compatible form writes and Java 17's does not (DER of the OIDs).
_PBES2_OID_DER = bytes.fromhex("06092a864886f70d01050d")  # PBES2 (RFC 8018)
_SHA1_OID_DER = b"\x06\x05\x2b\x0e\x03\x02\x1a"


def compat_of(data: bytes) -> Compat:
    """The compatibility a PKCS12 file was written for, so that a rewrite (an edit, a renewal)
    keeps it readable by the Java that read it: JAVA8 when it has no PBES2 and a SHA-1 MAC (what
    --compat java8 writes and Java 8 before 8u301 needs, JDK-8267701), else CURRENT. The MacData
    is the PFX's last field: its digest AlgorithmIdentifier sits in the last bytes. The one
    sniffer: edit and renew both ask it."""
    legacy = _PBES2_OID_DER not in data and _SHA1_OID_DER in data[-80:]
    return Compat.JAVA8 if legacy else Compat.CURRENT


def _encryption(password: str, compat: Compat) -> KeySerializationEncryption:
    builder = PrivateFormat.PKCS12.encryption_builder().kdf_rounds(ITERATIONS)
    if compat is Compat.JAVA8:
        # Java 8 before 8u301 reads only PBES1 and SHA-1 MACs (JDK-8267701, JDK-8228481).
        builder = builder.key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
        builder = builder.hmac_hash(hashes.SHA1())
    else:
        # What Java 17 writes: PBEWithHmacSHA256AndAES_256 and an HmacPBESHA256 MAC. (kdf_rounds
        # sets the encryption count; cryptography keeps the MAC at 2048 rounds, which Java reads.)
        builder = builder.key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
        builder = builder.hmac_hash(hashes.SHA256())
    return builder.build(password.encode("utf-8"))


def build(entries: Sequence[Entry], password: str, keypass: str | None = None,
          compat: Compat | None = None, *, protected: bool = True) -> bytes:
    """A PKCS12 Java reads (keys under the store password: the package refuses another keypass,
    which Java cannot read): each key's friendlyName is its alias and it shares a localKeyId with
    its certificate; issuers follow as plain certificate bags (Java rebuilds chains by issuer);
    trusted certificates carry Oracle's attribute, without which Java does not see them; secret
    keys go in secret bags as Java writes them; sealed PKCS12 keys are carried as they are.
    protected=False: certificates in the clear and no MAC (p12codec.assemble), keys still
    shrouded with the password."""
    keyed = [e for e in entries if e.kind is EntryKind.PRIVATE_KEY]
    trusted = [e for e in entries if e.kind is EntryKind.TRUSTED_CERT]
    secret = [e for e in entries if e.kind is EntryKind.SECRET_KEY]
    _check_chains(keyed, trusted)
    compat = Compat.parse(compat)
    encryption = _encryption(password, compat)
    simple = protected and not secret and all(e.key is not None and e.key_pkcs8 is None and e.chain
                                              for e in keyed) and \
        all(isinstance(c, x509.Certificate) for e in entries for c in e.chain)
    if simple and len(keyed) == 1 and not trusted:
        entry = keyed[0]
        return pkcs12.serialize_key_and_certificates(
            name=entry.alias.encode("utf-8"), key=entry.key, cert=entry.chain[0],
            cas=list(entry.chain[1:]) or None, encryption_algorithm=encryption,
        )
    if simple and not keyed:
        bags = [pkcs12.PKCS12Certificate(e.chain[0], e.alias.encode("utf-8")) for e in trusted]
        return pkcs12.serialize_java_truststore(bags, encryption)
    # Keys and trusted certificates in one file: cryptography has no single call for that.
    from . import p12codec

    return p12codec.assemble(_bags(keyed, trusted, secret), password, legacy=compat is Compat.JAVA8,
                             iterations=ITERATIONS, protected=protected)


def _check_chains(keyed: Sequence[Entry], trusted: Sequence[Entry]) -> None:
    """Java does not read a PKCS12 chain as written: it rebuilds it by issuer name from all the
    file's certificates. A chain that would come back different is refused, naming the entry."""
    by_subject: dict[x509.Name, x509.Certificate] = {}
    for entry in [*keyed, *trusted]:
        for cert in entry.chain:
            by_subject.setdefault(cert.subject, cert)
    for entry in keyed:
        if not entry.chain:  # a key without a certificate: nothing to rebuild
            continue
        rebuilt = _chain(entry.chain[0], by_subject)
        if rebuilt != tuple(entry.chain):
            raise UnsupportedError(
                f"the chain of entry {entry.alias!r} is not linked by issuer, and Java rebuilds PKCS12 chains "
                f"by issuer: it would read {len(rebuilt)} of its {len(entry.chain)} certificates; keep it in JKS "
                "or JCEKS, or fix the chain")


def _bags(keyed: Sequence[Entry], trusted: Sequence[Entry], secret: Sequence[Entry]) -> list[Bag]:
    from . import p12codec

    bags: list[Bag] = []
    written: set[x509.Certificate] = set()
    for number, entry in enumerate(keyed, start=1):
        key_id = f"ktpy-key-{number}".encode()
        bags.append(p12codec.Bag(kind="key", der=pkcs8_of(entry) if entry.key else None,
                                 friendly_name=entry.alias, local_key_id=key_id, sealed=_sealed(entry)))
        if not entry.chain:  # a key without a certificate, as Java lists it
            continue
        bags.append(p12codec.Bag(kind="cert", der=certs.to_der(entry.chain[0]), friendly_name=entry.alias,
                                 local_key_id=key_id))
        for issuer in entry.chain[1:]:
            if issuer not in written:
                written.add(issuer)
                bags.append(p12codec.Bag(kind="cert", der=certs.to_der(issuer)))
    for entry in trusted:
        bags.append(p12codec.Bag(kind="cert", der=certs.to_der(entry.chain[0]), friendly_name=entry.alias,
                                 trusted=True))
    for number, entry in enumerate(secret, start=1):
        bags.append(p12codec.Bag(kind="secret", der=_secret_der(entry), friendly_name=entry.alias,
                                 local_key_id=f"ktpy-secret-{number}".encode(), sealed=_sealed(entry)))
    return bags


def _sealed(entry: Entry) -> bytes | None:
    return entry.sealed.blob if entry.sealed is not None and entry.sealed.store_type is StoreType.PKCS12 else None


def _secret_der(entry: Entry) -> bytes | None:
    from . import p12codec

    if entry.secret is None:
        return None
    oid = SECRET_KEY_OIDS.get(entry.secret.algorithm)
    if oid is None:
        raise UnsupportedError(f"the secret key of entry {entry.alias!r} is a {entry.secret.algorithm} key, "
                               "which ktpy cannot write into a PKCS12 keystore")
    return p12codec.secret_key_info(oid, entry.secret.value)


def seal(entry: Entry, keypass: str) -> bytes:
    """The entry's key shrouded with keypass, as it goes into a PKCS12 bag."""
    from .. import pbe
    from . import p12codec

    der = _secret_der(entry) if entry.kind is EntryKind.SECRET_KEY else pkcs8_of(entry)
    if der is None:
        raise BadInputError(f"the secret key of entry {entry.alias!r} was not decrypted; give its key password")
    return p12codec._shrouded_key(pbe.encrypt_pbes2(der, keypass, ITERATIONS))


def read(data: bytes, password: str | None, keypass: str | None, *, only: str | None = None,
         secret_pass: str | None = None) -> Keystore:
    """The entries Java's PKCS12KeyStore.engineLoad lists: keys and secret keys by friendlyName
    (lowercased; unnamed ones numbered "1", "2"... in file order), each private key with the
    certificate of its localKeyId and the chain rebuilt by issuer; certificates with Oracle's
    trusted attribute as trusted entries; other certificates only serve chains. Of two entries
    under one alias the last is kept. Keys are decrypted with keypass (None: left sealed)."""
    from . import certificate, p12codec

    bags = p12codec.parse(data, password, decrypt_keys=False)
    counter = 0

    def unfriendly() -> str:
        nonlocal counter
        counter += 1
        return str(counter)

    # alias folded -> [kind, alias, bag, key id, chain or certificate]
    table: dict[str, list[Any]] = {}
    key_list: list[list[Any]] = []
    cert_entries: list[tuple[x509.Certificate, bytes | None, str | None]] = []
    certs_by_subject: dict[x509.Name, x509.Certificate] = {}
    private_count = 0
    # Java numbers positions within each SafeContents; p12codec keeps file order, and a bag's
    # position matters only for the first bag of a file with one key and no localKeyId.
    for index, bag in enumerate(bags):
        key_id = bag.local_key_id
        if bag.kind in ("key", "secret"):
            if bag.kind == "key":
                private_count += 1
                if key_id is None:
                    if private_count != 1:
                        continue
                    key_id = b"01"
            alias = bag.friendly_name if bag.friendly_name is not None else unfriendly()
            item: list[Any] = ["key" if bag.kind == "key" else "secret", alias, bag, key_id, None]
            if bag.kind == "key":
                key_list.append(item)
            table[alias.lower()] = item
        else:
            assert bag.der is not None  # p12codec.Bag: a certificate bag has its DER
            try:
                cert = certificate.load_der(bag.der, what="a certificate in the PKCS12 keystore")
            except BadInputError:
                raise BadInputError("the PKCS12 keystore holds a certificate that cannot be read") from None
            if key_id is None and private_count == 1 and index == 0:
                key_id = b"01"
            if bag.trusted:
                alias = bag.friendly_name if bag.friendly_name is not None else unfriendly()
                table[alias.lower()] = ["trusted", alias, bag, key_id, cert]
            else:
                cert_entries.append((cert, key_id, bag.friendly_name))
            certs_by_subject.setdefault(cert.subject, cert)
    for item in key_list:
        item[4] = _chain(_matched_certificate(item, cert_entries), certs_by_subject)
    entries: list[Entry] = []
    for folded, (kind, _alias, bag, _key_id, extra) in table.items():
        chosen = only is None or folded == only.lower()
        sealed = Sealed(StoreType.PKCS12, bag.sealed) if bag.sealed else None
        if kind == "trusted":
            entries.append(Entry(alias=folded, chain=(extra,), kind=EntryKind.TRUSTED_CERT))
        elif kind == "key":
            # a key without a certificate: Java lists it as a key entry with no chain
            # (getCertificateChain null), and so does ktpy; where a chain is needed, that entry is refused
            key, pkcs8 = (_open_key(sealed, keypass, folded) if sealed is not None and keypass is not None and chosen
                          else (None, None))
            entries.append(Entry(alias=folded, chain=extra, key=key, sealed=sealed, key_pkcs8=pkcs8))
        else:
            secret = (_open_secret(sealed, secret_pass, folded, strict=only is not None)
                      if sealed is not None and secret_pass is not None and chosen else None)
            entries.append(Entry(alias=folded, kind=EntryKind.SECRET_KEY, secret=secret, sealed=sealed))
    return Keystore(type=StoreType.PKCS12, entries=tuple(entries))


def _matched_certificate(item: Sequence[Any],
                         cert_entries: Sequence[tuple[x509.Certificate, bytes | None, str | None]]
                         ) -> x509.Certificate | None:
    """PKCS12KeyStore.findMatchedCertificate: the certificate with the key's localKeyId (and its
    alias, when several), else one with its alias."""
    _, alias, _, key_id, _ = item
    key_match = alias_match = None
    for cert, cert_key_id, cert_alias in cert_entries:
        same_alias = cert_alias is not None and cert_alias.lower() == alias.lower()
        if cert_key_id is not None and cert_key_id == key_id:
            key_match = cert
            if same_alias:
                return cert
        elif same_alias:
            alias_match = cert
    return key_match or alias_match


def _chain(cert: x509.Certificate | None,
           certs_by_subject: Mapping[x509.Name, x509.Certificate]) -> tuple[x509.Certificate, ...]:
    chain: list[x509.Certificate] = []
    while cert is not None and cert not in chain:
        chain.append(cert)
        if certs.is_self_issued(cert) and certs.issued_by(cert, cert):
            break
        cert = certs_by_subject.get(cert.issuer)
    return tuple(chain)


def _sealed_of(entry: Entry) -> Sealed:
    if entry.sealed is None:
        raise BadInputError(f"the entry {entry.alias!r} holds no protected key to open")
    return entry.sealed


def recover(entry: Entry, keypass: str) -> tuple[PrivateKey, bytes]:
    """(private key, PKCS#8) of a sealed PKCS12 entry."""
    return _open_key(_sealed_of(entry), keypass, entry.alias)


def recover_secret(entry: Entry, keypass: str) -> SecretKey:
    secret = _open_secret(_sealed_of(entry), keypass, entry.alias, strict=True)
    assert secret is not None  # strict: a wrong password raises
    return secret


def _open_key(sealed: Sealed, keypass: str, alias: str) -> tuple[PrivateKey, bytes]:
    from . import p12codec

    try:
        der = p12codec.decrypt_key(sealed.blob, keypass)
    except WrongPasswordError:
        raise WrongPasswordError(f"wrong key password for entry {alias!r} in the PKCS12 keystore") from None
    return load_key(der, what=f"the key of entry {alias!r} in the PKCS12 keystore"), der


def _open_secret(sealed: Sealed, keypass: str, alias: str, *, strict: bool) -> SecretKey | None:
    from . import p12codec

    try:
        der = p12codec.decrypt_key(sealed.blob, keypass, secret=True)
    except WrongPasswordError:
        if strict:
            raise WrongPasswordError(f"wrong key password for the secret key entry {alias!r} "
                                     "in the PKCS12 keystore") from None
        return None
    oid, value = p12codec.read_secret_key_info(der)
    return SecretKey(algorithm=_SECRET_KEY_NAMES.get(oid, oid), value=value)
