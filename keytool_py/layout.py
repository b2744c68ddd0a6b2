"""The kit folder, named once: what `kit` writes, what `renew` rewrites and reads back, and what
`mule-config` and the CLI's messages point at. A name spelled in two places drifts; here it is
spelled once, and read_kit_shape reads an existing kit back (which keystores it has, their alias
and PKCS12 compatibility, its mule-config.xml), so that no command works a kit's shape out itself.

    KIT/
      ca/                         a new CA (kit without --ca): ca.pem, ca.key, issued.jsonl...
      client.key client.pem client-chain.pem salesforce-upload.pem
      keystore.jks keystore.p12 keystore.jceks
      mule-config.xml  secure.yaml  secure.key  README.txt
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .keystore import Compat, StoreType

STORE_FILES = {StoreType.JKS: "keystore.jks", StoreType.PKCS12: "keystore.p12",
               StoreType.JCEKS: "keystore.jceks"}
CLIENT_KEY = "client.key"
CLIENT_CERT = "client.pem"
CLIENT_CHAIN = "client-chain.pem"
UPLOAD_PEM = "salesforce-upload.pem"
# the key, certificate, chain and upload PEM, in the order kit and renew write them
CLIENT_FILES = (CLIENT_KEY, CLIENT_CERT, CLIENT_CHAIN, UPLOAD_PEM)
MULE_CONFIG = "mule-config.xml"
README = "README.txt"
CA_DIR = "ca"
CA_PASSWORD_FILE = f"{CA_DIR}/ca-password.txt"
# Mule's secure properties: the encrypted store and key passwords, and the key that opens them
# (generated unless given: AES-256, CBC, random IVs, see secure_properties.py).
SECURE_FILE = "secure.yaml"
SECURE_KEY_FILE = "secure.key"
# The alias kit gives the client entry, and what renew falls back to when none can be read.
DEFAULT_ALIAS = "mule-client"


@dataclass(frozen=True)
class KitShape:
    """What an existing kit holds: its keystore types (in STORE_FILES order), the alias of its
    client entry (None when no store could be read), the PKCS12 compatibility, mule-config.xml."""

    store_types: tuple[StoreType, ...]
    alias: str | None
    compat: Compat
    mule_config: bytes | None


def kit_store_types(folder: str | Path) -> tuple[StoreType, ...]:
    """The keystore types whose file is in the kit (STORE_FILES order), from the names alone."""
    return tuple(t for t, name in STORE_FILES.items() if (Path(folder) / name).exists())


def read_kit_shape(folder: str | Path, storepass: str | None) -> KitShape:
    """The shape of the kit in `folder`. The alias comes from the first store that can be read
    (JKS and JCEKS without a password, as keytool -list does; PKCS12 only with `storepass`)."""
    from . import files
    from .errors import KtpyError
    from .expiry import read_certificates
    from .keystore.pkcs12 import compat_of

    folder = Path(folder)
    types, alias, compat = kit_store_types(folder), None, Compat.CURRENT
    for store_type in types:
        data = files.read(folder / STORE_FILES[store_type], what="keystore")
        if store_type is StoreType.PKCS12:
            compat = compat_of(data)
        if alias is None and (store_type is not StoreType.PKCS12 or storepass):
            try:
                found = read_certificates(data, storepass)
            except KtpyError:  # a PKCS12 the new password does not open: the alias comes from another
                continue
            alias = next((a for a, n, _ in found[1] if n == 0 and a), None) if found else None
    mule_path = folder / MULE_CONFIG
    mule_config = files.read(mule_path) if mule_path.exists() else None
    return KitShape(types, alias, compat, mule_config)
