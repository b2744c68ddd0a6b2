"""keytool_py: certificates and Java keystores for Mule <-> Salesforce mutual TLS and JWT.

    >>> from keytool_py import create_ca, build_keystore
    >>> ca = create_ca("CN=Dev Root CA,O=Acme")
    >>> client = ca.issue_client("CN=mule-client,O=Acme")
    >>> data = build_keystore("jks", client.key, client.chain, alias="mule-client", storepass="changeit")
"""

__version__ = "0.1.0"

from .ca import CA, create_ca, load_ca
from .errors import (
    BadInputError,
    KtpyError,
    MismatchError,
    OutputExistsError,
    UnsupportedError,
    VerificationError,
    WrongPasswordError,
)
from .issue import LeafCert, Profile
from .keys import KeyType, generate_key, load_private_key
from .keystore import Compat, Entry, Keystore, StoreType
from .keystore import build as build_keystore
from .keystore import load as load_keystore

__all__ = [
    "CA", "Compat", "Entry", "KeyType", "Keystore", "LeafCert", "Profile", "StoreType",
    "build_keystore", "create_ca", "generate_key", "load_ca", "load_keystore", "load_private_key",
    "KtpyError", "BadInputError", "MismatchError", "OutputExistsError", "UnsupportedError",
    "VerificationError", "WrongPasswordError",
]
