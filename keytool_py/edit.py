"""Changing a keystore: delete, rename, passwords, imports, a CA's reply, merges, as values.

Each edit is a pure function from a Keystore to a new Keystore; a Plan holds the result with
the store password it is written with, and its bytes come from the one builder
(keystore.build_store). Nothing here reads or writes files.

How untouched entries keep their protection is settled here, once:
- a key nobody decrypted is carried in its sealed form (Entry.sealed), so it keeps its own
  password, whatever that is, and ktpy never needs it;
- a key that is decrypted is protected anew with the store password the plan writes. Only keys
  the old store password opened are decrypted (load_for_edit(unlock=...)), so a key password
  that equalled the store password still equals it after `passwd` (PKCS12 and the Salesforce
  connector's JWT connection, which has no key password field, need that);
- a key given its own password is sealed with it (keystore.seal).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from cryptography import x509

from . import certs, keystore
from .errors import BadInputError, MismatchError, UnsupportedError, WrongPasswordError
from .keys import PrivateKey, same_public_key
from .keystore import Compat, Entry, EntryKind, Keystore, StoreType

PKCS12_OWN_KEYPASS = ("a PKCS12 keystore's key password must equal its store password (keytool refuses "
                      "-keypasswd for PKCS12, and Mule and the JWT connection expect them equal); "
                      "change the store password instead, or use a JKS or JCEKS keystore")


@dataclass(frozen=True)
class Plan:
    """An edit worked out before anything is written: the store after it, the store password
    it is written with, and the PKCS12 compatibility it keeps."""

    before: Keystore
    after: Keystore
    storepass: str
    compat: Compat | None = None
    protected: bool = True  # False: a password-less PKCS12 (no MAC, certificates in the clear) stays so

    def encode(self, now: dt.datetime | None = None) -> bytes:
        return keystore.build_store(self.after.type, self.after.entries, storepass=self.storepass,
                                    compat=self.compat, now=now, protected=self.protected)

    def changes(self) -> list[str]:
        """What the edit does, one line per entry removed, added or changed (for --dry-run)."""
        old = {e.alias: e for e in self.before.entries}
        new = {e.alias: e for e in self.after.entries}
        lines = [f"remove {a!r} ({old[a].kind.value})" for a in old if a not in new]
        for alias, entry in new.items():
            if alias not in old:
                lines.append(f"add {alias!r} ({entry.kind.value}, {describe_entry(entry)})")
            elif entry.chain != old[alias].chain:
                lines.append(f"replace the chain of {alias!r}: {describe_entry(entry)}")
        return lines


def describe_entry(entry: Entry) -> str:
    if entry.kind is EntryKind.SECRET_KEY:
        return "secret key"
    names = ", ".join(c.subject.rfc4514_string() for c in entry.chain)
    return f"chain of {len(entry.chain)}: {names}" if entry.kind is EntryKind.PRIVATE_KEY else names


# --- reading a store to edit it ---

def load_for_edit(data: bytes, storepass: str, *, unlock: Sequence[str] = ()) -> Keystore:
    """The store in `data` with every key sealed as it is, then unlocked(..., unlock). (Commands
    read the file through opener.editing and call unlocked on what it opened.)"""
    from . import opener

    sealed = opener.open_store(opener.Source.of(data), lambda: storepass, mode=opener.Mode.SEALED).store
    return unlocked(sealed, unlock)


def unlocked(store: Keystore, passwords: Sequence[str] = ()) -> Keystore:
    """The store (read sealed) with each key that one of `passwords` opens decrypted (it will
    be protected anew with the store password the plan writes); the others stay sealed."""
    return Keystore(store.type, tuple(_unlocked(e, passwords) for e in store.entries))


def for_new_storepass(store: Keystore, old: str, new: str) -> Keystore:
    """The store (read sealed) ready to be written with the store password `new`: when it
    changes, the keys the old store password opens are decrypted, so that they get the new one
    too (PKCS12 and the JWT connection need key and store password equal); keys with their own
    password stay sealed and keep it."""
    return unlocked(store, [old]) if new != old else store


def merge_source(source: Keystore, dest: Keystore, *, src_storepass: str, dest_storepass: str,
                 src_keypass: Callable[[], str] | None = None) -> Keystore:
    """A merge source (read sealed) ready to go into `dest`. A source of dest's type with dest's
    store password is carried as it is (every key keeps its protection). Otherwise the keys its
    store password opens are decrypted (they get dest's store password); from a source of
    another type, whose sealed keys dest cannot hold, also those `src_keypass` opens (asked for
    only then)."""
    other_type = source.type is not dest.type
    unlock = [src_storepass] if other_type or src_storepass != dest_storepass else []
    if src_keypass is not None and other_type:
        unlock.append(src_keypass())
    return unlocked(source, unlock)


def _unlocked(entry: Entry, passwords: Sequence[str]) -> Entry:
    for password in dict.fromkeys(passwords):
        opened = _opened(entry, password)
        if opened is not None:
            return opened
    return entry


def open_entry(store: Keystore, alias: str, password: str) -> Entry:
    """One entry of a store read sealed, with its key decrypted by `password`
    (WrongPasswordError when it does not)."""
    entry = find(store, alias)
    if entry.kind is EntryKind.TRUSTED_CERT:
        return entry
    opened = _opened(entry, password)
    if opened is None:
        raise WrongPasswordError(f"wrong key password for entry {entry.alias!r}")
    return opened


def _opened(entry: Entry, password: str) -> Entry | None:
    if entry.kind is EntryKind.TRUSTED_CERT or entry.alias != entry.alias.lower():
        return None  # nothing to open; a mixed-case alias is one Java cannot look up: stays sealed
    try:
        found = keystore.open_entry(entry, password)
    except WrongPasswordError:
        return None
    return found if found.decrypted else None


def find(store: Keystore, alias: str) -> Entry:
    """The entry stored under exactly this alias, else the one Java finds (so a mixed-case
    alias Java cannot reach can still be renamed or deleted)."""
    exact = [e for e in store.entries if e.alias == alias]
    return exact[0] if exact else store.entry(alias)


def pkcs12_protected(data: bytes) -> bool:
    """False for a password-less PKCS12 (keytool writes one with -J-Dkeystore.pkcs12.macAlgorithm=NONE
    -J-Dkeystore.pkcs12.certProtectionAlgorithm=NONE; JDK 18+ by default for truststores): the
    edit keeps it password-less, as keytool's own -importcert does."""
    from .keystore import p12codec

    return not p12codec.is_unprotected(data)


# --- the edits ---

def delete(store: Keystore, alias: str) -> Keystore:
    entry = find(store, alias)
    remaining = tuple(e for e in store.entries if e is not entry)
    if not remaining:
        raise BadInputError(f"the entry {entry.alias!r} is the only one in the keystore, and a keystore needs "
                            "at least one; delete the file instead")
    return replace(store, entries=remaining)


def rename(store: Keystore, alias: str, to: str) -> Keystore:
    entry = find(store, alias)
    new_alias = keystore.normalize_alias(to)
    if new_alias == entry.alias:
        raise BadInputError(f"the entry is already named {new_alias!r}")
    _refuse_clash(store, new_alias, ignore=entry)
    return _swap(store, entry, replace(entry, alias=new_alias))


def set_key_password(store: Keystore, entry: Entry, keypass: str, *, storepass: str) -> Keystore:
    """`entry` (decrypted) protected with its own password; a password equal to the store
    password leaves it decrypted, so the builder protects it as the store's own keys."""
    if not entry.decrypted or entry.kind is EntryKind.TRUSTED_CERT:
        raise BadInputError(f"the entry {entry.alias!r} holds no key to give a password")
    if keypass == storepass:
        return _swap(store, find(store, entry.alias), entry)
    if store.type is StoreType.PKCS12:
        raise UnsupportedError(PKCS12_OWN_KEYPASS)
    return _swap(store, find(store, entry.alias), keystore.seal(entry, store.type, keypass))


def add_trusted(store: Keystore, certificates: Sequence[x509.Certificate], *, alias: str | None = None,
                now: dt.datetime | None = None) -> Keystore:
    """Trusted certificate entries: one certificate under `alias`, several under ALIAS1,
    ALIAS2...; without an alias, named after each CN (with -2, -3... where a name is taken).
    A certificate already in the store is refused, as keytool does."""
    if not certificates:
        raise BadInputError("no certificate to import")
    holders = {e.chain[0]: e for e in reversed(store.entries) if e.chain}  # linear: one lookup per certificate
    for cert in certificates:
        holder = holders.get(cert)
        if holder is not None:
            raise BadInputError(f"the certificate {cert.subject.rfc4514_string()} is already in the keystore "
                                f"as {holder.alias!r}")
    if alias is not None:
        names = [alias] if len(certificates) == 1 else [f"{alias}{n}" for n in range(1, len(certificates) + 1)]
        entries = [Entry(alias=keystore.normalize_alias(name), chain=(cert,), kind=EntryKind.TRUSTED_CERT,
                         timestamp=now) for name, cert in zip(names, certificates, strict=True)]
        existing = {e.alias.lower(): e for e in store.entries}
        for entry in entries:
            if entry.alias.lower() in existing:
                _refuse_clash(store, entry.alias)  # says which entry holds it
    else:
        entries = keystore.trusted_entries(certificates, now=now, taken={e.alias.lower() for e in store.entries})
    return replace(store, entries=store.entries + tuple(entries))


def add_key(store: Keystore, key: PrivateKey, chain: Sequence[x509.Certificate], *, alias: str,
            storepass: str, keypass: str | None = None, now: dt.datetime | None = None) -> Keystore:
    """A private key entry; its key password is the store password unless `keypass` differs."""
    chain = tuple(chain)
    if not chain or not same_public_key(key.public_key(), chain[0].public_key()):
        raise MismatchError("the private key does not match the certificate")
    entry = Entry(alias=keystore.normalize_alias(alias), chain=chain, key=key, timestamp=now)
    _refuse_clash(store, entry.alias)
    if keypass is not None and keypass != storepass:
        if store.type is StoreType.PKCS12:
            raise UnsupportedError(PKCS12_OWN_KEYPASS)
        entry = keystore.seal(entry, store.type, keypass)
    return replace(store, entries=store.entries + (entry,))


def apply_reply(store: Keystore, alias: str, reply: Sequence[x509.Certificate]) -> Keystore:
    """keytool -importcert of a CA reply: the chain of the key entry `alias` becomes the
    reply's certificate for that key followed by its issuers, each signed by the next. Issuers
    missing from the reply are taken from the store (trusted entries, the entry's old chain);
    a reply of one certificate whose issuer is nowhere is refused, as keytool does. The key is
    not decrypted: it is carried as it is, with its own password."""
    entry = find(store, alias)
    if entry.kind is not EntryKind.PRIVATE_KEY:
        raise BadInputError(f"the entry {entry.alias!r} is a {entry.kind.value}, not a private key entry; "
                            "a CA reply goes to the key its CSR was made from")
    public_key = entry.chain[0].public_key()
    leaf = next((c for c in reply if same_public_key(c.public_key(), public_key)), None)
    if leaf is None:
        raise MismatchError(f"the reply holds no certificate for the key of entry {entry.alias!r} "
                            "(none has its public key); was the CSR made from this entry?")
    if leaf == entry.chain[0]:
        raise BadInputError(f"the reply's certificate is the one entry {entry.alias!r} already holds")
    chain = certs.order_chain(leaf, [c for c in reply if c != leaf])
    if not certs.is_self_issued(chain[-1]):
        pool = [e.chain[0] for e in store.entries if e.kind is EntryKind.TRUSTED_CERT] + list(entry.chain[1:])
        chain = chain + certs.split_chain(chain[-1], pool)[0][1:]
    if len(chain) == 1 and not certs.is_self_issued(leaf):
        raise BadInputError(f"the reply holds only the certificate, and its issuer "
                            f"{leaf.issuer.rfc4514_string()} is neither in the reply nor in the keystore; "
                            "import the reply together with the CA's chain (a PEM bundle or a .p7b)")
    return _swap(store, entry, replace(entry, chain=chain))


def merge(dest: Keystore, sources: Sequence[Keystore], *, src_alias: str | None = None,
          dest_alias: str | None = None) -> Keystore:
    """`dest` with the sources' entries added (all of them, or only `src_alias`), `dest_alias`
    renaming the one entry taken. An alias already in use is refused, never overwritten."""
    if src_alias is not None:
        found = [e for s in sources for e in s.entries if e.alias == src_alias.lower() or e.alias == src_alias]
        if not found:
            raise BadInputError(f"no source keystore holds an entry {src_alias!r}")
        if len(found) > 1:
            raise BadInputError(f"several source keystores hold an entry {src_alias!r}; name only the one to take")
        picked = found
    else:
        picked = [e for s in sources for e in s.entries]
    if dest_alias is not None:
        if len(picked) != 1:
            raise BadInputError("--dest-alias names one entry; choose it with --src-alias")
        picked = [replace(picked[0], alias=keystore.normalize_alias(dest_alias))]
    added: list[Entry] = []
    for entry in picked:
        taken = {e.alias.lower() for e in dest.entries + tuple(added)}
        if entry.alias.lower() in taken:
            raise BadInputError(f"the alias {entry.alias!r} is already in the destination keystore; take it under "
                                f"another name with --src-alias {entry.alias} --dest-alias NEW")
        carried = entry.sealed is not None and entry.sealed.store_type is dest.type
        if entry.kind is not EntryKind.TRUSTED_CERT and not entry.decrypted and not carried:
            raise BadInputError(f"the key of entry {entry.alias!r} has a password of its own and must be protected "
                                f"anew for a {dest.type.value.upper()} keystore; give that password with --src-keypass")
        added.append(entry)
    return replace(dest, entries=dest.entries + tuple(added))


def read_reply(data: bytes, *, what: str) -> list[x509.Certificate]:
    """The certificates of a CA reply: PEM (one or several CERTIFICATE blocks), a PKCS#7
    (.p7b/.p7c, PEM or DER), or one DER certificate."""
    from cryptography.hazmat.primitives.serialization import pkcs7

    try:
        if b"-----BEGIN PKCS7-----" in data:
            found = pkcs7.load_pem_pkcs7_certificates(data.replace(b"\r\n", b"\n"))
        elif b"-----BEGIN" not in data and data[:1] == b"\x30":
            try:
                found = pkcs7.load_der_pkcs7_certificates(data)
            except ValueError:
                return certs.load_certificates(data, what=what)
        else:
            return certs.load_certificates(data, what=what)
    except ValueError:
        raise BadInputError(f"{what} is not a PEM or DER certificate or PKCS#7 bundle") from None
    if not found:
        raise BadInputError(f"{what} is a PKCS#7 bundle without certificates")
    return list(found)


def key_password_notes(store: Keystore, *, storepass_changed: bool, skip: str | None = None) -> list[str]:
    """What a store-password change did to each key's password (for `passwd` to say)."""
    if not storepass_changed:
        return []
    keyed = [e for e in store.entries if e.kind is not EntryKind.TRUSTED_CERT and e.alias != skip]
    same = [e.alias for e in keyed if e.decrypted]
    own = [e.alias for e in keyed if not e.decrypted]
    notes = []
    if same:
        notes.append(f"the key password of {_names(same)} was the store password and stays equal to it "
                     "(PKCS12 and the Salesforce connector's JWT connection need that)")
    if own:
        notes.append(f"{_names(own)} keep{'s' if len(own) == 1 else ''} {'its' if len(own) == 1 else 'their'} "
                     "own key password")
    return notes


def _names(aliases: Sequence[str]) -> str:
    return ", ".join(repr(a) for a in aliases)


def _refuse_clash(store: Keystore, alias: str, *, ignore: Entry | None = None) -> None:
    clash = next((e for e in store.entries if e is not ignore and e.alias.lower() == alias.lower()), None)
    if clash is not None:
        raise BadInputError(f"the keystore already has an entry {clash.alias!r}; choose another alias "
                            "or delete that entry first")


def _swap(store: Keystore, old: Entry, new: Entry) -> Keystore:
    return replace(store, entries=tuple(new if e is old else e for e in store.entries))
