"""PKCS12 through cryptography (pyOpenSSL no longer handles PKCS12)."""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import PrivateFormat, pkcs12

from .. import certs, keys
from ..errors import BadInputError
from . import Compat, Entry, Keystore, StoreType

# Java 17's own PKCS12 iteration count (keystore.pkcs12.keyPbeIterationCount).
ITERATIONS = 10_000


def _encryption(password: str, compat: Compat):
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


def build(entries: Sequence[Entry], password: str, *, compat: Compat) -> bytes:
    """A PKCS12 Java reads: each key's friendlyName is its alias and it shares a localKeyId with
    its certificate; issuers follow as plain certificate bags (Java rebuilds chains by issuer);
    trusted certificates carry Oracle's attribute, without which Java does not see them."""
    keyed = [e for e in entries if e.is_key_entry]
    trusted = [e for e in entries if not e.is_key_entry]
    encryption = _encryption(password, compat)
    if len(keyed) == 1 and not trusted:
        entry = keyed[0]
        return pkcs12.serialize_key_and_certificates(
            name=entry.alias.encode("utf-8"), key=entry.key, cert=entry.chain[0],
            cas=list(entry.chain[1:]) or None, encryption_algorithm=encryption,
        )
    if not keyed:
        bags = [pkcs12.PKCS12Certificate(e.chain[0], e.alias.encode("utf-8")) for e in trusted]
        return pkcs12.serialize_java_truststore(bags, encryption)
    # Keys and trusted certificates in one file: cryptography has no single call for that.
    from . import p12codec

    return p12codec.assemble(_bags(keyed, trusted), password, legacy=compat is Compat.JAVA8, iterations=ITERATIONS)


def _bags(keyed: Sequence[Entry], trusted: Sequence[Entry]) -> list:
    from ..keys import private_key_to_der
    from . import p12codec

    bags, written = [], set()
    for number, entry in enumerate(keyed, start=1):
        key_id = f"ktpy-key-{number}".encode()
        bags.append(p12codec.Bag(kind="key", der=private_key_to_der(entry.key), friendly_name=entry.alias,
                                 local_key_id=key_id))
        bags.append(p12codec.Bag(kind="cert", der=certs.to_der(entry.chain[0]), friendly_name=entry.alias,
                                 local_key_id=key_id))
        for issuer in entry.chain[1:]:
            if issuer not in written:
                written.add(issuer)
                bags.append(p12codec.Bag(kind="cert", der=certs.to_der(issuer)))
    for entry in trusted:
        bags.append(p12codec.Bag(kind="cert", der=certs.to_der(entry.chain[0]), friendly_name=entry.alias,
                                 trusted=True))
    return bags


def load(data: bytes, password: str, *, decrypt_keys: bool = True) -> Keystore:
    """Every entry Java would list: each key with its certificate (paired by public key, as the
    localKeyId ties them) and the chain rebuilt by issuer from all certificates, and each
    certificate carrying Oracle's trusted attribute. Other certificates only serve chains."""
    from cryptography import x509

    from ..keys import load_private_key
    from . import p12codec

    bags = p12codec.parse(data, password)
    cert_bags = []
    for bag in (b for b in bags if b.kind == "cert"):
        try:
            cert_bags.append((bag, x509.load_der_x509_certificate(bag.der)))
        except ValueError:
            raise BadInputError("the PKCS12 keystore holds a certificate that cannot be read") from None
    all_certs = [c for _, c in cert_bags]
    entries = []
    for number, bag in enumerate((b for b in bags if b.kind == "key"), start=1):
        key = load_private_key(bag.der, what="a key in the PKCS12 keystore")
        leaf = next((c for b, c in cert_bags if b.local_key_id and b.local_key_id == bag.local_key_id
                     and keys.same_public_key(c.public_key(), key.public_key())), None)
        leaf = leaf or next((c for c in all_certs if keys.same_public_key(c.public_key(), key.public_key())), None)
        if leaf is None:
            raise BadInputError("the PKCS12 keystore holds a key without its certificate")
        chain, _ = certs.split_chain(leaf, all_certs)
        name = bag.friendly_name or next((b.friendly_name for b, c in cert_bags if c == leaf), None) or str(number)
        entries.append(Entry(alias=name.lower(), chain=chain, key=key if decrypt_keys else None))
    for number, (bag, cert) in enumerate(((b, c) for b, c in cert_bags if b.trusted), start=1):
        entries.append(Entry(alias=(bag.friendly_name or f"trusted-{number}").lower(), chain=(cert,),
                             is_key_entry=False))
    return Keystore(type=StoreType.PKCS12, entries=tuple(entries))
