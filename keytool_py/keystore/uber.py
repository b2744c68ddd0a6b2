"""Bouncy Castle's UBER keystore (read only): bks.py reads it, this module gives the format table
its entry points."""

from __future__ import annotations

from collections.abc import Sequence

from ..keys import PrivateKey
from . import bks
from .model import Compat, Entry, Keystore, SecretKey, StoreType


def read(data: bytes, storepass: str | None, keypass: str | None, *, only: str | None = None,
         secret_pass: str | None = None) -> Keystore:
    return bks.load(data, StoreType.UBER, storepass, keypass, only=only, secret_pass=secret_pass)


def build(entries: Sequence[Entry], storepass: str, keypass: str, compat: Compat) -> bytes:
    return bks.build(entries, storepass, keypass, compat)


def seal(entry: Entry, keypass: str) -> bytes:
    return bks.seal(entry, keypass)


def recover(entry: Entry, keypass: str) -> tuple[PrivateKey, bytes]:
    return bks.recover(entry, keypass)


def recover_secret(entry: Entry, keypass: str) -> SecretKey:
    return bks.recover_secret(entry, keypass)
