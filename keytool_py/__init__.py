"""keytool_py: certificates and Java keystores for Mule <-> Salesforce mutual TLS and JWT.

    >>> from keytool_py import create_ca, build_keystore
    >>> ca = create_ca("CN=Dev Root CA,O=Acme")
    >>> client = ca.issue_client("CN=mule-client,O=Acme")
    >>> data = build_keystore("jks", client.key, client.chain, alias="mule-client", storepass="changeit")

The names below are imported on first use, so that `ktpy --help` does not load cryptography.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "CA": "ca", "create_ca": "ca", "load_ca": "ca",
    "LeafCert": "issue", "Profile": "issue", "SignedCert": "issue",
    "KeyType": "keys", "generate_key": "keys", "load_private_key": "keys",
    "Compat": "keystore", "Entry": "keystore", "Keystore": "keystore", "StoreType": "keystore",
    "build_keystore": ("keystore", "build"), "load_keystore": ("keystore", "load"),
    "KtpyError": "errors", "BadInputError": "errors", "MismatchError": "errors", "OutputExistsError": "errors",
    "UnsupportedError": "errors", "VerificationError": "errors", "WrongPasswordError": "errors",
}

__all__ = [  # the names of _EXPORTS, written out for type checkers and linters
    "BadInputError", "CA", "Compat", "Entry", "KeyType", "Keystore", "KtpyError", "LeafCert",
    "MismatchError", "OutputExistsError", "Profile", "SignedCert", "StoreType", "UnsupportedError",
    "VerificationError", "WrongPasswordError", "build_keystore", "create_ca", "generate_key",
    "load_ca", "load_keystore", "load_private_key",
]

if TYPE_CHECKING:  # what type checkers and pdoc see; at run time __getattr__ imports on first use
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
    from .issue import LeafCert, Profile, SignedCert
    from .keys import KeyType, generate_key, load_private_key
    from .keystore import Compat, Entry, Keystore, StoreType
    from .keystore import build as build_keystore
    from .keystore import load as load_keystore


def __getattr__(name: str) -> Any:
    target = _EXPORTS.get(name)
    if target is None:
        raise AttributeError(f"module 'keytool_py' has no attribute {name!r}")
    module_name, attribute = target if isinstance(target, tuple) else (target, name)
    value = getattr(importlib.import_module(f".{module_name}", __name__), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
