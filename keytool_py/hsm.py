"""A CA key that lives in a PKCS#11 token (an HSM, a smart card, a cloud KMS, SoftHSM for tests).

The key is made inside the token (CKA_SENSITIVE true, CKA_EXTRACTABLE false: the token never
lets it out) and never touches the disk. ktpy signs with it through `cryptography`: TokenRSAKey
and TokenECKey subclass cryptography's RSAPrivateKey and EllipticCurvePrivateKey, and their
`sign` hashes the data here and sends the digest to the token (CKM_RSA_PKCS over a DigestInfo,
CKM_RSA_PKCS_PSS, or CKM_ECDSA), so certificates, CRLs and CSRs are built by the same code as
with a key file. Hashing here, with the mechanisms every token has, rather than CKM_SHA256_RSA_PKCS
and kin, which some tokens lack.

The binding is python-pkcs11 (PyPI `python-pkcs11`): maintained, with wheels for current Pythons,
typed (py.typed), and it raises one exception class per PKCS#11 return code (PinIncorrect,
PinLocked, NoSuchToken, DeviceRemoved...), which is what one-sentence errors need; PyKCS11 wraps
the C API more literally (integer return codes, object handles) and would need a layer of its own.

PKCS#11 has one login per process (C_Login logs in every session of the application), and a
process that forks must initialise the library again in the child (PKCS#11 v2.40 section 6.7.7):
a connection remembers the process that opened it, and a batch worker (a forked child) opens its
own session on first use.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from . import p11uri
from .errors import BadInputError, KtpyError, OutputExistsError, UnsupportedError, WrongPasswordError
from .keys import KeyType, PublicKey
from .p11uri import Pkcs11Uri

MODULE_ENV = "KTPY_PKCS11_MODULE"
# What the CA folder holds instead of ca.key: comment lines, then the key's URI.
TOKEN_FILE_HEADER = (b"# The CA key is in a PKCS#11 token; ktpy signs with it there (docs/hsm.md).\n"
                     b"# The module comes from module-path below, --pkcs11-module or KTPY_PKCS11_MODULE;\n"
                     b"# the PIN from --pin SRC (or pin-source in the URI).\n")
# Reconnecting to a token that answered before: tries, and the first pause (doubled each time;
# 6 tries wait 1.55 s in all), before the token counts as gone.
RECONNECT_TRIES = 6
RECONNECT_PAUSE = 0.05
# An id for a new key: 16 random bytes are unique enough in one token, and opaque like CKA_ID is.
NEW_ID_BYTES = 16

# DER of the named curves' OIDs (CKA_EC_PARAMS), and the curves ktpy signs with.
_CURVE_PARAMS = {
    bytes.fromhex("06082a8648ce3d030107"): ec.SECP256R1(),
    bytes.fromhex("06052b81040022"): ec.SECP384R1(),
    bytes.fromhex("06052b81040023"): ec.SECP521R1(),
}
_NEW_CURVES = {KeyType.EC_P256: bytes.fromhex("06082a8648ce3d030107"),
               KeyType.EC_P384: bytes.fromhex("06052b81040022")}
# PKCS#1 v1.5 DigestInfo prefixes (RFC 8017 section 9.2, note 1): CKM_RSA_PKCS signs these + digest.
_DIGEST_INFO = {
    "sha1": bytes.fromhex("3021300906052b0e03021a05000414"),
    "sha224": bytes.fromhex("302d300d06096086480165030402040500041c"),
    "sha256": bytes.fromhex("3031300d060960864801650304020105000420"),
    "sha384": bytes.fromhex("3041300d060960864801650304020205000430"),
    "sha512": bytes.fromhex("3051300d060960864801650304020305000440"),
}


class TokenGoneError(KtpyError):
    """The token stopped answering while ktpy signed with it (removed, or its module failed)."""


def _binding() -> Any:
    try:
        import pkcs11
    except ImportError:
        raise UnsupportedError("PKCS#11 keys need python-pkcs11: pip install 'keytool_py[pkcs11]'") from None
    return pkcs11


def module_path(uri: Pkcs11Uri, given: str | None = None) -> str:
    """The PKCS#11 library to load: --pkcs11-module, else the URI's module-path, else
    $KTPY_PKCS11_MODULE; it must exist."""
    path = given or uri.module_path or os.environ.get(MODULE_ENV)
    if not path:
        raise BadInputError(f"no PKCS#11 module named: give --pkcs11-module PATH, module-path=PATH in the URI, "
                            f"or set {MODULE_ENV}")
    if not Path(path).is_file():
        raise KtpyError(f"PKCS#11 module {path} not found (no such file)")
    return path


# One library per module path per process: (lib, the pid that initialised it).
_LIBS: dict[str, tuple[Any, int]] = {}


def _library(module: str, *, fresh: bool = False) -> Any:
    """The loaded module, initialised in this process; `fresh` initialises it again (C_Finalize,
    C_Initialize), which makes a module list its tokens anew."""
    pkcs11 = _binding()
    loaded = _LIBS.get(module)
    if loaded is not None:
        lib, pid = loaded
        if fresh or pid != os.getpid():  # a forked child: C_Initialize again before any call
            lib.reinitialize()
            _LIBS[module] = (lib, os.getpid())
        return lib
    try:
        lib = pkcs11.lib(module)
    except pkcs11.PKCS11Error as exc:
        reason = str(exc).rpartition(": ")[2] or type(exc).__name__
        raise KtpyError(f"{module} cannot be loaded as a PKCS#11 module ({reason})") from None
    _LIBS[module] = (lib, os.getpid())
    return lib


def _token_name(uri: Pkcs11Uri) -> str:
    return repr(uri.token) if uri.token is not None else f"with serial {uri.serial}"


def _find_token(lib: Any, uri: Pkcs11Uri, module: str) -> Any:
    pkcs11 = _binding()
    labels, found = [], []
    for slot in lib.get_slots(token_present=True):
        try:
            token = slot.get_token()
        except (pkcs11.TokenNotPresent, pkcs11.TokenNotRecognised):
            continue
        if not token.flags & pkcs11.TokenFlag.TOKEN_INITIALIZED:
            continue
        labels.append(token.label)
        serial = token.serial.decode("ascii", "replace").strip()
        if (uri.token is None or token.label == uri.token) and (uri.serial is None or serial == uri.serial):
            found.append(token)
    if not found:
        there = f"its tokens: {', '.join(repr(label) for label in sorted(labels))}" if labels else "it has no token"
        raise KtpyError(f"no token {_token_name(uri)} in PKCS#11 module {module} ({there})")
    if len(found) > 1:
        raise KtpyError(f"{len(found)} tokens match {_token_name(uri)} in PKCS#11 module {module}; "
                        "add serial=... to the URI")
    return found[0]


@dataclass
class _Connection:
    """A logged-in session on the token and the key's handle, in the process that opened them."""

    uri: Pkcs11Uri  # with the key's label and id
    module: str
    pin: str = field(repr=False)
    session: Any = field(default=None, repr=False)
    key: Any = field(default=None, repr=False)
    pid: int = 0

    gone: bool = False

    def private_key(self) -> Any:
        """The key's handle in this process, connecting first when needed (a new process, or
        after a failure). A connection that worked before is tried again a few times, the module
        initialised anew each time, before the token counts as gone: SoftHSM reads its token files
        when it starts, and a sibling worker writing them at that moment (a login updates the
        token's flags) hides the token for a moment (seen in about one batch in three)."""
        if self.key is not None and self.pid == os.getpid():
            return self.key
        if self.gone:
            raise self._gone()
        pkcs11 = _binding()
        tries = RECONNECT_TRIES if self.pid != 0 else 1
        for attempt in range(tries):
            try:
                lib = _library(self.module, fresh=attempt > 0)
                token = _find_token(lib, self.uri, self.module)
                self.session = _login(token, self.uri, self.pin, rw=False, module=self.module)
                self.key = _find_key(self.session, self.uri)
                self.pid = os.getpid()
                return self.key
            except (KtpyError, pkcs11.PKCS11Error):
                if attempt == tries - 1:
                    raise
                time.sleep(RECONNECT_PAUSE * 2**attempt)
        raise AssertionError("unreachable")  # the loop returns or raises

    def _gone(self) -> TokenGoneError:
        return TokenGoneError(f"token {_token_name(self.uri)} stopped answering while signing (removed, or its "
                              "module failed); nothing signed was written: put it back and run the command again")

    def sign(self, data: bytes, mechanism: Any, param: Any = None) -> bytes:
        pkcs11 = _binding()
        gone = (pkcs11.ObjectHandleInvalid, pkcs11.KeyHandleInvalid, pkcs11.SessionHandleInvalid,
                pkcs11.SessionClosed, pkcs11.DeviceRemoved, pkcs11.TokenNotPresent, pkcs11.DeviceError,
                pkcs11.UserNotLoggedIn)
        for _ in range(2):  # a handle that went stale is looked up again once
            try:
                key = self.private_key()
            except (KtpyError, pkcs11.PKCS11Error):
                if self.pid == 0:  # never connected: the reason itself (wrong PIN, no such key...)
                    raise
                self.gone = True  # it answered before and no longer does: later signatures fail at once
                raise self._gone() from None
            try:
                return bytes(key.sign(data, mechanism=mechanism, mechanism_param=param))
            except gone:
                self.key = None  # the next try starts over
            except pkcs11.PKCS11Error as exc:
                raise KtpyError(f"token {_token_name(self.uri)} refused to sign with key {self.uri.key_name} "
                                f"({type(exc).__name__})") from None
        self.gone = True
        raise self._gone()


# The PIN each token was logged in with, per process: PKCS#11 logs a whole process in at once
# (a second C_Login answers CKR_USER_ALREADY_LOGGED_IN without checking the PIN), so a later
# open with another PIN in the same process is refused here rather than let through.
_LOGINS: dict[tuple[str, int], str] = {}


def _login(token: Any, uri: Pkcs11Uri, pin: str, *, rw: bool, module: str) -> Any:
    pkcs11 = _binding()
    if token.flags & pkcs11.TokenFlag.USER_PIN_LOCKED:
        raise _locked(uri)
    which = (module, int(token.slot.slot_id))
    try:
        session = token.open(rw=rw, user_pin=pin)
        _LOGINS[which] = pin
        return session
    except pkcs11.UserAlreadyLoggedIn:  # this process is logged in already: that login counts for all sessions
        known = _LOGINS.get(which)
        if known is not None and known != pin:
            raise WrongPasswordError(f"wrong PIN for token {_token_name(uri)}") from None
        return token.open(rw=rw)
    except (pkcs11.PinIncorrect, pkcs11.PinInvalid, pkcs11.PinLenRange):
        raise WrongPasswordError(f"wrong PIN for token {_token_name(uri)}") from None
    except pkcs11.PinLocked:
        raise _locked(uri) from None
    except pkcs11.PinExpired:
        raise WrongPasswordError(f"the PIN of token {_token_name(uri)} has expired; set a new one with the "
                                 "token's own tool") from None


def _locked(uri: Pkcs11Uri) -> KtpyError:
    return WrongPasswordError(f"the user PIN of token {_token_name(uri)} is locked (too many wrong PINs); its "
                              "security officer must unlock it with the token's own tool")


def _private_keys(session: Any, uri: Pkcs11Uri) -> list[Any]:
    pkcs11 = _binding()
    attrs: dict[Any, Any] = {pkcs11.Attribute.CLASS: pkcs11.ObjectClass.PRIVATE_KEY}
    if uri.object is not None:
        attrs[pkcs11.Attribute.LABEL] = uri.object
    if uri.id is not None:
        attrs[pkcs11.Attribute.ID] = uri.id
    return list(session.get_objects(attrs))


def _find_key(session: Any, uri: Pkcs11Uri) -> Any:
    if uri.object is None and uri.id is None:
        raise BadInputError("the PKCS#11 URI names no key: add object=LABEL (or id=...)")
    keys = _private_keys(session, uri)
    if not keys:
        raise KtpyError(f"token {_token_name(uri)} holds no private key {uri.key_name}")
    if len(keys) > 1:
        raise KtpyError(f"token {_token_name(uri)} holds {len(keys)} private keys {uri.key_name}; add id=... "
                        "to the URI to pick one")
    return keys[0]


def _attr(obj: Any, name: str, default: Any = None) -> Any:
    pkcs11 = _binding()
    try:
        return obj[getattr(pkcs11.Attribute, name)]
    except (pkcs11.AttributeTypeInvalid, pkcs11.AttributeSensitive, KeyError, NotImplementedError):
        return default


def _public_key(session: Any, key: Any, uri: Pkcs11Uri) -> PublicKey:
    """The key's public half as the token holds it: RSA from the private object's modulus and
    exponent (or the public object's), EC from the public object's CKA_EC_POINT."""
    pkcs11 = _binding()
    kind = _attr(key, "KEY_TYPE")
    label, key_id = _attr(key, "LABEL"), _attr(key, "ID")
    public = None
    for attrs in ({pkcs11.Attribute.ID: key_id}, {pkcs11.Attribute.LABEL: label}):
        if next(iter(attrs.values())) in (None, b"", ""):
            continue
        found = list(session.get_objects({pkcs11.Attribute.CLASS: pkcs11.ObjectClass.PUBLIC_KEY, **attrs}))
        if len(found) == 1:
            public = found[0]
            break
    if kind == pkcs11.KeyType.RSA:
        for obj in (key, public):
            n = _attr(obj, "MODULUS") if obj is not None else None
            e = _attr(obj, "PUBLIC_EXPONENT") if obj is not None else None
            if n and e:
                return rsa.RSAPublicNumbers(int.from_bytes(e, "big"), int.from_bytes(n, "big")).public_key()
    elif kind == pkcs11.KeyType.EC:
        curve = _CURVE_PARAMS.get(bytes(_attr(key, "EC_PARAMS") or b""))
        if curve is None:
            raise UnsupportedError(f"the EC key {uri.key_name} in token {_token_name(uri)} is on a curve ktpy does "
                                   "not sign with; use P-256, P-384 or P-521")
        point = bytes(_attr(public, "EC_POINT") or b"") if public is not None else b""
        if len(point) > 2 and point[0] == 0x04 and len(point) == point[1] + 2:  # DER OCTET STRING
            point = point[2:]
        elif len(point) > 3 and point[:2] == b"\x04\x81" and len(point) == point[2] + 3:
            point = point[3:]
        if point:
            return ec.EllipticCurvePublicKey.from_encoded_point(curve, point)
    else:
        name = getattr(kind, "name", str(kind))
        raise UnsupportedError(f"the key {uri.key_name} in token {_token_name(uri)} is a {name} key; ktpy signs with "
                               "RSA or EC keys")
    raise UnsupportedError(f"token {_token_name(uri)} shows no public key for {uri.key_name} (no public key object "
                           "with its id or label)")


def _check_can_sign(token: Any, key: Any, public: PublicKey, uri: Pkcs11Uri) -> None:
    pkcs11 = _binding()
    if _attr(key, "SIGN", True) is False:
        raise UnsupportedError(f"the key {uri.key_name} in token {_token_name(uri)} is not allowed to sign "
                               "(CKA_SIGN is false)")
    needed = pkcs11.Mechanism.RSA_PKCS if isinstance(public, rsa.RSAPublicKey) else pkcs11.Mechanism.ECDSA
    if needed not in token.slot.get_mechanisms():
        raise UnsupportedError(f"token {_token_name(uri)} cannot sign with its {uri.key_name} key: it lacks the "
                               f"mechanism CKM_{needed.name}")


def _open(uri: Pkcs11Uri, module: str, pin: Callable[[Pkcs11Uri], str]) -> TokenRSAKey | TokenECKey:
    lib = _library(module)
    token = _find_token(lib, uri, module)
    if token.flags & _binding().TokenFlag.USER_PIN_LOCKED:
        raise _locked(uri)
    secret = pin(uri)
    session = _login(token, uri, secret, rw=False, module=module)
    key = _find_key(session, uri)
    public = _public_key(session, key, uri)
    _check_can_sign(token, key, public, uri)
    named = uri.with_key(object=_attr(key, "LABEL") or None, id=_attr(key, "ID") or None)
    conn = _Connection(named, module, secret, session=session, key=key, pid=os.getpid())
    if isinstance(public, rsa.RSAPublicKey):
        return TokenRSAKey(conn, public)
    return TokenECKey(conn, public)


def open_key(uri: Pkcs11Uri, pin: Callable[[Pkcs11Uri], str], *, module: str | None = None) -> TokenRSAKey | TokenECKey:
    """The private key the URI names, ready to sign. `pin(uri)` gives the PIN; it is asked only
    once the token is found."""
    path = module_path(uri, module)
    with _token_errors(uri):
        return _open(uri, path, pin)


@contextlib.contextmanager
def _token_errors(uri: Pkcs11Uri) -> Iterator[None]:
    """A PKCS#11 failure no step above names (CKR_GENERAL_ERROR, CKR_DEVICE_ERROR...) as one sentence."""
    pkcs11 = _binding()
    try:
        yield
    except pkcs11.PKCS11Error as exc:
        raise KtpyError(f"token {_token_name(uri)} failed ({type(exc).__name__}); check that it is present and "
                        "working (softhsm2-util --show-slots, p11tool --list-tokens)") from None


def generate_key(uri: Pkcs11Uri, pin: Callable[[Pkcs11Uri], str], key_type: KeyType | str, *,
                 module: str | None = None) -> TokenRSAKey | TokenECKey:
    """A new key pair made inside the token, labelled with the URI's object (and id, else a random
    one): the private half sensitive and never extractable, both halves stored in the token."""
    key_type = KeyType.parse(key_type)
    path = module_path(uri, module)
    if uri.object is None:
        raise BadInputError("the PKCS#11 URI names no object for the new key: add object=LABEL")
    with _token_errors(uri):
        return _generate(uri, path, pin, key_type)


def _generate(uri: Pkcs11Uri, path: str, pin: Callable[[Pkcs11Uri], str],
              key_type: KeyType) -> TokenRSAKey | TokenECKey:
    pkcs11 = _binding()
    lib = _library(path)
    token = _find_token(lib, uri, path)
    secret = pin(uri)
    session = _login(token, uri, secret, rw=True, module=path)
    if _private_keys(session, uri.with_key(object=uri.object)):
        raise OutputExistsError(f"token {_token_name(uri)} already holds a key {uri.key_name}; pass --existing-key "
                                "to make the CA with it, or name another object")
    key_id = uri.id or os.urandom(NEW_ID_BYTES)
    A = pkcs11.Attribute
    private = {A.TOKEN: True, A.PRIVATE: True, A.SENSITIVE: True, A.EXTRACTABLE: False, A.SIGN: True,
               A.DECRYPT: False, A.UNWRAP: False, A.DERIVE: False}
    public: dict[Any, Any] = {A.TOKEN: True, A.VERIFY: True, A.ENCRYPT: False, A.WRAP: False}
    try:
        if key_type.is_rsa:
            # 65537, as keys.generate_key: the only exponent Java, OpenSSL and Salesforce all expect
            public[A.PUBLIC_EXPONENT] = b"\x01\x00\x01"
            session.generate_keypair(pkcs11.KeyType.RSA, int(key_type.value[3:]), id=key_id, label=uri.object,
                                     store=True, public_template=public, private_template=private)
        else:
            params = session.create_domain_parameters(pkcs11.KeyType.EC, {A.EC_PARAMS: _NEW_CURVES[key_type]},
                                                      local=True)
            params.generate_keypair(id=key_id, label=uri.object, store=True, public_template=public,
                                    private_template=private)
    except (pkcs11.MechanismInvalid, pkcs11.KeySizeRange, pkcs11.DomainParamsInvalid, pkcs11.FunctionNotSupported):
        raise UnsupportedError(f"token {_token_name(uri)} cannot make a {key_type.value} key; pick another "
                               "--key-type") from None
    except pkcs11.TokenWriteProtected:
        raise KtpyError(f"token {_token_name(uri)} is write-protected: it cannot store a new key") from None
    finally:
        session.close()
    return _open(uri.with_key(id=key_id), path, lambda _: secret)


_K = TypeVar("_K", bound="_TokenKey")


class _TokenKey:
    """What both token key classes share: where the key is, and refusals to export it."""

    _conn: _Connection
    _spki: bytes  # the public key, SubjectPublicKeyInfo DER

    @property
    def pkcs11_uri(self) -> Pkcs11Uri:
        """The key's URI (token, object label, id), without a PIN."""
        return self._conn.uri

    @property
    def module(self) -> str:
        return self._conn.module

    def token_flags(self) -> dict[str, bool]:
        """What the token says about the private key: sensitive, extractable, never_extractable,
        always_sensitive (CKA_* of the same names)."""
        key = self._conn.private_key()
        return {name.lower(): bool(_attr(key, name)) for name in
                ("SENSITIVE", "EXTRACTABLE", "NEVER_EXTRACTABLE", "ALWAYS_SENSITIVE")}

    def _refuse_export(self) -> UnsupportedError:
        return UnsupportedError(f"the CA key is in token {_token_name(self._conn.uri)} and never leaves it; it cannot "
                                "be exported or written to a file")

    def private_bytes(self, encoding: serialization.Encoding, format: serialization.PrivateFormat,
                      encryption_algorithm: serialization.KeySerializationEncryption) -> bytes:
        raise self._refuse_export()

    # A copy is the same key in the same token; a pickle reopens it there (_reopen).
    def __copy__(self: _K) -> _K:
        return self

    def __deepcopy__(self: _K, memo: dict[int, object]) -> _K:
        return self

    def __reduce__(self) -> tuple[Callable[..., PrivateKeyTypes], tuple[str, str, str, bytes]]:
        return _reopen, (str(self._conn.uri), self._conn.module, self._conn.pin, self._spki)


def _reopen(uri: str, module: str, pin: str, public_der: bytes) -> TokenRSAKey | TokenECKey:
    """Unpickling (a batch worker started without fork): the same key, connected on first use."""
    public = serialization.load_der_public_key(public_der)
    conn = _Connection(p11uri.parse(uri), module, pin)
    if isinstance(public, rsa.RSAPublicKey):
        return TokenRSAKey(conn, public)
    assert isinstance(public, ec.EllipticCurvePublicKey)  # __reduce__ wrote one of ours
    return TokenECKey(conn, public)


def _digest(data: bytes, algorithm: hashes.HashAlgorithm | utils.Prehashed) -> tuple[bytes, hashes.HashAlgorithm]:
    if isinstance(algorithm, utils.Prehashed):
        return data, algorithm._algorithm
    h = hashes.Hash(algorithm)
    h.update(data)
    return h.finalize(), algorithm


class TokenRSAKey(_TokenKey, rsa.RSAPrivateKey):
    """An RSA private key in a token: `sign` goes to the token, nothing else leaves it."""

    def __init__(self, conn: _Connection, public: rsa.RSAPublicKey) -> None:
        self._conn = conn
        self._public = public
        self._spki = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)

    def sign(self, data: bytes | bytearray | memoryview, padding: padding.AsymmetricPadding,
             algorithm: hashes.HashAlgorithm | utils.Prehashed | utils.NoDigestInfo) -> bytes:
        from cryptography.hazmat.primitives.asymmetric import padding as pad

        pkcs11 = _binding()
        if isinstance(algorithm, utils.NoDigestInfo):  # the caller built what PKCS#1 v1.5 signs
            if not isinstance(padding, pad.PKCS1v15):
                raise UnsupportedError("NoDigestInfo goes with PKCS#1 v1.5 padding only")
            return self._conn.sign(bytes(data), pkcs11.Mechanism.RSA_PKCS)
        digest, hash_algorithm = _digest(bytes(data), algorithm)
        if isinstance(padding, pad.PKCS1v15):
            prefix = _DIGEST_INFO.get(hash_algorithm.name)
            if prefix is None:
                raise UnsupportedError(f"ktpy signs with {hash_algorithm.name} only through SHA-1/SHA-2 hashes")
            return self._conn.sign(prefix + digest, pkcs11.Mechanism.RSA_PKCS)
        if isinstance(padding, pad.PSS):
            salt = padding._salt_length
            if salt is pad.PSS.DIGEST_LENGTH or salt is pad.PSS.AUTO:
                salt = hash_algorithm.digest_size
            elif salt is pad.PSS.MAX_LENGTH:
                salt = (self.key_size + 7) // 8 - hash_algorithm.digest_size - 2
            name = hash_algorithm.name.upper()
            param = (getattr(pkcs11.Mechanism, name), getattr(pkcs11.MGF, name), salt)
            return self._conn.sign(digest, pkcs11.Mechanism.RSA_PKCS_PSS, param)
        raise UnsupportedError(f"a token key signs with PKCS#1 v1.5 or PSS padding, not {padding.name}")

    @property
    def key_size(self) -> int:
        return self._public.key_size

    def public_key(self) -> rsa.RSAPublicKey:
        return self._public

    def decrypt(self, ciphertext: bytes, padding: padding.AsymmetricPadding) -> bytes:
        raise UnsupportedError("ktpy uses a token's CA key only to sign")

    def private_numbers(self) -> rsa.RSAPrivateNumbers:
        raise self._refuse_export()


class TokenECKey(_TokenKey, ec.EllipticCurvePrivateKey):
    """An EC private key in a token: ECDSA over the digest (CKM_ECDSA), DER-encoded as X.509 wants."""

    def __init__(self, conn: _Connection, public: ec.EllipticCurvePublicKey) -> None:
        self._conn = conn
        self._public = public
        self._spki = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)

    def sign(self, data: bytes | bytearray | memoryview,
             signature_algorithm: ec.EllipticCurveSignatureAlgorithm) -> bytes:
        if not isinstance(signature_algorithm, ec.ECDSA):
            raise UnsupportedError("a token's EC key signs with ECDSA only")
        digest, _ = _digest(bytes(data), signature_algorithm.algorithm)
        raw = self._conn.sign(digest, _binding().Mechanism.ECDSA)
        half = len(raw) // 2
        return utils.encode_dss_signature(int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big"))

    @property
    def curve(self) -> ec.EllipticCurve:
        return self._public.curve

    @property
    def key_size(self) -> int:
        return self._public.curve.key_size

    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self._public

    def exchange(self, algorithm: ec.ECDH, peer_public_key: ec.EllipticCurvePublicKey) -> bytes:
        raise UnsupportedError("ktpy uses a token's CA key only to sign")

    def private_numbers(self) -> ec.EllipticCurvePrivateNumbers:
        raise self._refuse_export()


def is_token_key(key: object) -> bool:
    """True for a key that lives in a PKCS#11 token (it signs there and cannot be serialised)."""
    return isinstance(key, _TokenKey)


def with_module(key: TokenRSAKey | TokenECKey, module: str) -> TokenRSAKey | TokenECKey:
    """The same key, its URI naming the module (module-path) so ca.pkcs11 records where it is."""
    from dataclasses import replace

    key._conn.uri = replace(key._conn.uri, module_path=os.path.abspath(module))
    return key


def token_file(key: TokenRSAKey | TokenECKey) -> bytes:
    """The CA folder's ca.pkcs11: comment lines, then the key's URI (no PIN)."""
    return TOKEN_FILE_HEADER + str(key.pkcs11_uri).encode("utf-8") + b"\n"


def read_token_file(data: bytes, *, what: str) -> Pkcs11Uri:
    """The URI in a CA folder's ca.pkcs11."""
    try:
        lines = [line.strip() for line in data.decode("utf-8").splitlines()]
    except UnicodeDecodeError:
        raise BadInputError(f"{what} is not UTF-8 text") from None
    uris = [line for line in lines if line and not line.startswith("#")]
    if len(uris) != 1:
        raise BadInputError(f"{what} should hold one pkcs11: URI line (it holds {len(uris)})")
    return p11uri.parse(uris[0], what=what)


def pin_spec(given: str | None, uri: Pkcs11Uri) -> str | None:
    """The password source of the PIN: --pin, else the URI's pin-source file, else None (prompt)."""
    if given is not None:
        if given.startswith("generate:"):
            raise BadInputError("--pin takes pass:TEXT, env:VAR, file:PATH or prompt: a token's PIN exists already "
                                "and cannot be generated")
        return given
    if uri.pin_source is not None:
        return f"file:{uri.pin_source}"
    return None
