"""SoftHSM2 for the PKCS#11 tests: one token directory per test session, tokens initialised with
softhsm2-util, and SOFTHSM2_CONF pointing at them (SoftHSM reads it when the library starts, so
every token is made before any test loads the library).

Tokens: `ktpy-ca` (the CA keys; also a DSA key `dsa`, which ktpy cannot sign with), `ktpy-gone`
(its folder is moved away to play a token removed during a batch) and `ktpy-locked`, whose user
PIN is marked locked. SoftHSM 2.6 never locks a PIN itself (tried: 12 wrong PINs leave only
CKF_USER_PIN_COUNT_LOW), so the flag CKF_USER_PIN_LOCKED is set in the token's own file, where
SoftHSM keeps its flags (attribute CKA_OS_TOKENFLAGS, 0x8000534B, of token.object) and from
where C_GetTokenInfo reports them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

PIN = "ktpy-pin-1234"
SO_PIN = "ktpy-so-5678"
TOKENS = ("ktpy-ca", "ktpy-gone", "ktpy-locked")
MODULES = ("/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
           "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so")
_TOKEN_FLAGS = bytes.fromhex("000000008000534b" "0000000000000002")  # CKA_OS_TOKENFLAGS, a CK_ULONG
CKF_USER_PIN_LOCKED = 0x00040000


@dataclass(frozen=True)
class SoftHsm:
    module: str
    conf: Path
    tokens: Path

    def uri(self, token: str = "ktpy-ca", **attrs: str) -> str:
        return "pkcs11:" + ";".join([f"token={token}", *(f"{k}={v}" for k, v in attrs.items())])

    def token_dir(self, label: str) -> Path:
        padded = label.encode().ljust(32)
        for folder in self.tokens.iterdir():
            if padded in (folder / "token.object").read_bytes():
                return folder
        raise AssertionError(f"no SoftHSM token {label}")


def module_path() -> str | None:
    return next((m for m in MODULES if Path(m).is_file()), None)


def start(util: str, root: Path) -> SoftHsm:
    module = module_path()
    assert module is not None, f"softhsm2-util is installed but libsofthsm2.so is not in {MODULES}"
    tokens = root / "tokens"
    tokens.mkdir(parents=True)
    conf = root / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    for label in TOKENS:
        subprocess.run([util, "--init-token", "--free", "--label", label, "--pin", PIN, "--so-pin", SO_PIN],
                       check=True, capture_output=True, timeout=60)
    hsm = SoftHsm(module, conf, tokens)
    _lock_user_pin(hsm.token_dir("ktpy-locked") / "token.object")
    _add_dsa_key(module)
    return hsm


def _lock_user_pin(path: Path) -> None:
    data = bytearray(path.read_bytes())
    at = data.index(_TOKEN_FLAGS) + len(_TOKEN_FLAGS)
    flags = int.from_bytes(data[at:at + 8], "big") | CKF_USER_PIN_LOCKED
    data[at:at + 8] = flags.to_bytes(8, "big")
    path.write_bytes(bytes(data))


def _add_dsa_key(module: str) -> None:
    """A DSA key pair `dsa` in ktpy-ca: a key type the token holds but ktpy cannot sign with."""
    import pkcs11

    token = pkcs11.lib(module).get_token(token_label="ktpy-ca")
    with token.open(rw=True, user_pin=PIN) as session:
        params = session.generate_domain_parameters(pkcs11.KeyType.DSA, 1024)
        params.generate_keypair(store=True, label="dsa", id=b"\xd5")


def remove_token(hsm: SoftHsm, label: str, away: Path) -> Path:
    """Take a token's folder away (as pulling out a smart card); put_back undoes it."""
    folder = hsm.token_dir(label)
    shutil.move(folder, away)
    return folder


def put_back(folder: Path, away: Path) -> None:
    shutil.move(away, folder)
