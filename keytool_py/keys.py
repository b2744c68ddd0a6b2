"""Key types, key generation, and reading and writing private keys."""

from __future__ import annotations

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes

from .choices import Choice
from .errors import BadInputError, UnsupportedError, WrongPasswordError

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey


class KeyType(Choice, label="key type", aliases={"rsa-2048": "rsa2048", "rsa-3072": "rsa3072",
                                                  "rsa-4096": "rsa4096"}):
    """The key types ktpy generates. RSA is the default for clients because the
    Salesforce JWT bearer flow signs with RS256 only. `rsa-3072` is read as `rsa3072` (the
    spelling `create-ca --pkcs11 --key-type rsa-3072|ec-p256` is documented with)."""

    RSA2048 = "rsa2048"
    RSA3072 = "rsa3072"
    RSA4096 = "rsa4096"
    EC_P256 = "ec-p256"
    EC_P384 = "ec-p384"

    @property
    def is_rsa(self) -> bool:
        return self.value.startswith("rsa")


_CURVES = {KeyType.EC_P256: ec.SECP256R1, KeyType.EC_P384: ec.SECP384R1}


def generate_key(key_type: KeyType | str = KeyType.RSA2048) -> PrivateKey:
    """A new private key of the given type."""
    key_type = KeyType.parse(key_type)
    if key_type.is_rsa:
        # 65537 is the only public exponent Java, OpenSSL and Salesforce all expect.
        return rsa.generate_private_key(public_exponent=65537, key_size=int(key_type.value[3:]))
    return ec.generate_private_key(_CURVES[key_type]())


def describe_key(key: PrivateKeyTypes | PublicKeyTypes) -> str:
    """'RSA 2048' or 'EC P-256': what a user needs to know about a key, never its value."""
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return f"RSA {key.key_size}"
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        names = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
        return f"EC {names.get(key.curve.name, key.curve.name)}"
    return type(key).__name__


def check_supported(key: object) -> PrivateKey:
    """Refuse key algorithms that Java keystores and Salesforce do not take (DSA, Ed25519...)."""
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise UnsupportedError(
            f"{type(key).__name__.lstrip('_')} keys are not supported; use an RSA or EC key"
        )
    return key


def signature_hash(key: PrivateKey) -> hashes.SHA256 | hashes.SHA384:
    """SHA-256, or SHA-384 for a P-384 key so the hash is as strong as the curve."""
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size >= 384:
        return hashes.SHA384()
    return hashes.SHA256()


def same_public_key(a: PublicKeyTypes, b: PublicKeyTypes) -> bool:
    der = serialization.Encoding.DER
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    return a.public_bytes(der, spki) == b.public_bytes(der, spki)


def private_key_to_pem(key: PrivateKey, password: str | None = None) -> bytes:
    """PKCS#8 PEM, encrypted (PBES2, AES-256, as OpenSSL 3 does by default) when a password is given."""
    if password is None:
        encryption: serialization.KeySerializationEncryption = serialization.NoEncryption()
    else:
        encryption = serialization.BestAvailableEncryption(password.encode("utf-8"))
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def private_key_to_der(key: PrivateKey) -> bytes:
    """Unencrypted PKCS#8 DER: what keystores wrap."""
    return key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


_ENCRYPTED_MARKERS = (b"-----BEGIN ENCRYPTED PRIVATE KEY-----", b"Proc-Type: 4,ENCRYPTED")


def is_encrypted(data: bytes) -> bool:
    """True when a PEM private key needs a password. (Encrypted DER is detected on load.)"""
    return any(marker in data for marker in _ENCRYPTED_MARKERS)


def load_private_key(data: bytes, password: str | None = None, *, what: str = "the key") -> PrivateKey:
    """Read a PKCS#8, PKCS#1 or SEC1 private key, PEM (any line endings) or DER, encrypted or not."""
    pem = b"-----BEGIN" in data
    encrypted = is_encrypted(data)
    if encrypted and password is None:
        raise WrongPasswordError(f"{what} is encrypted; give its password")
    if password is not None:
        _check_rounds(data, pem, what)
    # cryptography refuses a password for a plain key, so pass one only where it is needed.
    secret = password.encode("utf-8") if password is not None and (encrypted or not pem) else None
    try:
        if pem:
            key = serialization.load_pem_private_key(data.replace(b"\r\n", b"\n"), secret,
                                                     unsafe_skip_rsa_key_validation=True)
        else:
            key = _load_der(data, secret)
    except TypeError:
        # encrypted DER given without a password, or a password for a plain DER key
        raise WrongPasswordError(f"{what} is encrypted; give its password") from None
    except UnsupportedAlgorithm:
        raise UnsupportedError(f"{what} uses a key algorithm or curve ktpy cannot read") from None
    except ValueError:
        if secret is not None:
            # A wrong password usually fails the padding check, but about 1 time in 100 it
            # decrypts to garbage that then fails to parse: both mean the password is wrong.
            raise WrongPasswordError(f"wrong password for {what}") from None
        raise BadInputError(f"{what} is not a readable private key (PEM or DER)") from None
    key = check_supported(key)
    _self_test(key, what)
    return key


def _self_test(key: PrivateKey, what: str) -> None:
    """RSA keys are loaded without cryptography's full validation (primality checks that cost
    0.05 to 0.2 s per key, most of a short command). Instead, sign and verify once (about 2 ms):
    that catches a key whose parts do not fit together, the damage the checks exist to find."""
    if not isinstance(key, rsa.RSAPrivateKey):
        return
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import padding

    message = b"ktpy key self-test"
    try:
        signature = key.sign(message, padding.PKCS1v15(), hashes.SHA256())
        key.public_key().verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        raise BadInputError(f"{what} is damaged: its RSA parts do not fit together") from None


def _load_der(data: bytes, secret: bytes | None) -> PrivateKeyTypes:
    try:
        return serialization.load_der_private_key(data, secret, unsafe_skip_rsa_key_validation=True)
    except TypeError:
        if secret is None:
            raise
        # a password was given but the DER key is not encrypted
        return serialization.load_der_private_key(data, None, unsafe_skip_rsa_key_validation=True)


def _check_rounds(data: bytes, pem: bool, what: str) -> None:
    """Refuse an encrypted PKCS#8 key whose key derivation would run longer than any real key's
    (a crafted count of 2^31-1), before deriving anything."""
    import base64
    import binascii

    if pem:
        begin, end = b"-----BEGIN ENCRYPTED PRIVATE KEY-----", b"-----END ENCRYPTED PRIVATE KEY-----"
        start = data.find(begin)
        stop = data.find(end, start + len(begin)) if start >= 0 else -1
        if stop < 0:
            return  # not PKCS#8 (legacy PEM encryption derives its key once), or damaged: the loader says so
        try:
            data = base64.b64decode(b"".join(data[start + len(begin):stop].split()), validate=True)
        except binascii.Error:
            return
    from .pbe import MAX_ROUNDS, MAX_SCRYPT_N

    rounds, kind = _key_rounds(data)
    # the caps are Java's and OpenSSL's, and pbe.py says why
    if kind == "scrypt" and rounds > MAX_SCRYPT_N:
        raise BadInputError(f"{what} is encrypted with scrypt at cost {rounds}; ktpy reads at most "
                            f"{MAX_SCRYPT_N} (the file is damaged or crafted)")
    if kind != "scrypt" and rounds > MAX_ROUNDS:
        raise BadInputError(f"{what} is encrypted with {rounds:,} key-derivation rounds; ktpy reads at most "
                            f"{MAX_ROUNDS:,}, as Java does (the file is damaged or crafted)")


def _key_rounds(data: bytes) -> tuple[int, str]:
    """(rounds, 'pbkdf2' | 'pbes1' | 'scrypt') of an EncryptedPrivateKeyInfo; (0, '') for anything else."""
    from pyasn1.codec.der import decoder
    from pyasn1.error import PyAsn1Error
    from pyasn1_modules import rfc5208

    from .pbe import claimed_rounds

    try:
        info, _ = decoder.decode(data, asn1Spec=rfc5208.EncryptedPrivateKeyInfo())
        algorithm = info["encryptionAlgorithm"]
        parameters = algorithm["parameters"]
        return claimed_rounds(str(algorithm["algorithm"]), bytes(parameters) if parameters.isValue else None)
    except (PyAsn1Error, KeyError, TypeError, ValueError):
        return 0, ""
