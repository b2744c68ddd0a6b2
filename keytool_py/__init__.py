"""keytool_py: certificates and Java keystores for Mule <-> Salesforce mutual TLS and JWT.

    >>> from keytool_py import create_ca, build_keystore
    >>> ca = create_ca("CN=Dev Root CA,O=Acme")
    >>> client = ca.issue_client("CN=mule-client,O=Acme")
    >>> data = build_keystore("jks", client.key, client.chain, alias="mule-client", storepass="changeit")

The names below are imported on first use, so that `ktpy --help` does not load cryptography.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "CA": "ca", "create_ca": "ca", "load_ca": "ca",
    "LeafCert": "issue", "Profile": "issue",
    "KeyType": "keys", "generate_key": "keys", "load_private_key": "keys",
    "Compat": "keystore", "Entry": "keystore", "Keystore": "keystore", "StoreType": "keystore",
    "build_keystore": ("keystore", "build"), "load_keystore": ("keystore", "load"),
    "KtpyError": "errors", "BadInputError": "errors", "MismatchError": "errors", "OutputExistsError": "errors",
    "UnsupportedError": "errors", "VerificationError": "errors", "WrongPasswordError": "errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    target = _EXPORTS.get(name)
    if target is None:
        raise AttributeError(f"module 'keytool_py' has no attribute {name!r}")
    module_name, attribute = target if isinstance(target, tuple) else (target, name)
    value = getattr(importlib.import_module(f".{module_name}", __name__), attribute)
    globals()[name] = value
    return value


def __dir__():
    return sorted([*globals(), *_EXPORTS])
