"""One door to a keystore file: every command that loads a keystore from a path comes through
open_store, so there is one reading of the file, one message for a file that is not a keystore,
one order of questions (the password is asked for only once the file is known to be a
keystore), and one place where an edit takes the file's lock.

Modes (Mode):
- READ: keys decrypted with the key password, else the store password (with `alias`, only that
  entry's key; with `carry`, a key the store password does not open stays sealed instead of
  failing, so that a rewrite in the same type carries it);
- SEALED: every key left as the store protects it (listing, exporting certificates, checks);
- EDIT: as SEALED, read as a snapshot that files.replace_in_place checks before it writes; use
  `editing`, which holds the file's lock (files.locked) until the edit is written.

A caller that already holds the bytes (a file that may be a keystore or a PEM, read once) passes
a Source; passwords are callables, asked for only when needed (cli/ resolves pass:, env:,
file: and prompts). Tests check that nothing else in keytool_py/ calls keystore.load.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from . import files, keystore
from .errors import BadInputError
from .keystore import Keystore, StoreType

# A password asked for only when it is needed: None reads as Java's load(stream, null).
PasswordSource = Callable[[], "str | None"]

NOT_A_KEYSTORE = "{name} is not a JKS, JCEKS, PKCS12, BKS or UBER keystore"


@dataclass(frozen=True)
class Source:
    """A file's bytes, read once, with its keystore type (None: not a keystore). `name` is the
    path as the user gave it (messages quote it so); `snapshot` is set for an edit."""

    name: str
    data: bytes = field(repr=False)
    type: StoreType | None
    snapshot: files.Snapshot | None = None

    @classmethod
    def of(cls, data: bytes, name: str = "the file") -> Source:
        return cls(name, data, keystore.detect_type(data))


def read_source(path: str | Path, *, what: str = "file", edit: bool = False) -> Source:
    """The file at `path`, read once (as a snapshot for an edit), and what type of keystore it is."""
    if edit:
        snapshot = files.read_for_edit(path, what=what)
        return Source(str(path), snapshot.data, keystore.detect_type(snapshot.data), snapshot)
    return Source.of(files.read(path, what=what), str(path))


@dataclass(frozen=True)
class OpenStore:
    """A keystore as open_store loaded it, with the file it came from and its store password."""

    source: Source
    store: Keystore
    storepass: str | None


class Mode(enum.Enum):
    """How open_store loads the keys: decrypted (READ), or left sealed to list or to edit."""

    READ = "read"
    SEALED = "sealed"
    EDIT = "edit"


def open_store(where: str | Path | Source, storepass: PasswordSource, *, mode: Mode = Mode.READ,
               keypass: PasswordSource | None = None, alias: str | None = None, carry: bool = False,
               what: str = "keystore", decrypt_secrets: bool = False,
               store_type: StoreType | None = None) -> OpenStore:
    """The keystore at `where` (a path, or a Source already read), loaded in `mode`. A file that
    is not a keystore is refused before any password is asked for (unless `store_type` says what
    it is: BKS and UBER have no magic number, and a damaged one may not look like one)."""
    source = where if isinstance(where, Source) else read_source(where, what=what, edit=mode is Mode.EDIT)
    if source.type is None and store_type is None:
        raise BadInputError(NOT_A_KEYSTORE.format(name=source.name))
    store_pw = storepass()
    key_pw = keypass() if keypass is not None and mode is Mode.READ else None
    sealed = mode is not Mode.READ or (carry and key_pw is None)
    store = keystore.load(
        source.data, store_pw, keypass=None if sealed else key_pw, alias=None if sealed else alias,
        decrypt_keys=not sealed and (store_pw is not None or key_pw is not None),
        decrypt_secrets=decrypt_secrets, store_type=store_type)
    if mode is Mode.READ and carry and key_pw is None and store_pw is not None:
        store = keystore.unlock(store, store_pw)
    return OpenStore(source, store, store_pw)


@contextlib.contextmanager
def editing(path: str | Path, storepass: PasswordSource, *, what: str = "keystore",
            wait: float | None = None) -> Iterator[OpenStore]:
    """The keystore at `path` opened for an edit (Mode.EDIT), under the file's lock
    (files.locked, waiting up to `wait` seconds for another ktpy) until the block ends: write the
    edit (files.replace_in_place(opened.source.snapshot, ...)) inside it. A missing file is
    reported by the read, with no lock file left; a type ktpy reads but does not write (BKS,
    UBER) is refused before any password is asked."""
    lock = files.locked(path, wait=wait) if Path(path).is_file() else contextlib.nullcontext()
    with lock:
        source = read_source(path, what=what, edit=True)
        if source.type is not None and not source.type.writable:
            raise BadInputError(f"{source.name} is a {source.type.value.upper()} keystore, which ktpy reads but "
                                "does not write; convert it to JKS, JCEKS or PKCS12 first (ktpy convert)")
        yield open_store(source, storepass, mode=Mode.EDIT, what=what)
