"""Editing keystores in place: the edits as values, the commands, and the failures
that must leave the file byte for byte as it was. What Java sees after each edit is proven in
test_edit_interop.py; here the stores come from fixtures/ (made by keytool and OpenSSL)."""

from __future__ import annotations

import functools
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from helpers import NOW, ktpy, require_tool

from keytool_py import edit, files, keystore
from keytool_py.certs import load_certificates, to_pem
from keytool_py.errors import BadInputError, MismatchError, UnsupportedError
from keytool_py.keys import load_private_key, private_key_to_pem, same_public_key
from keytool_py.keystore import EntryKind

FIXTURES = Path(__file__).parent.parent / "fixtures"
PW = "changeit"
ENV = {"SP": PW, "NEWPW": "new-store-pw", "KEYPW": "keypass1", "OUTPW": "export-pw-1"}
# One store of each type made by keytool, each with a trusted entry and a key entry 'rsa-client'.
STORES = {"jks": "keytool-rsa.jks", "jceks": "keytool.jceks", "pkcs12": "keytool.p12"}


run = functools.partial(ktpy, env=ENV)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(params=sorted(STORES))
def store(request, tmp_path) -> Path:
    path = tmp_path / STORES[request.param]
    shutil.copyfile(FIXTURES / STORES[request.param], path)
    return path


def sealed(path: Path, password: str = PW) -> keystore.Keystore:
    return edit.load_for_edit(path.read_bytes(), password)


def renewed_reply(ca, path: Path, alias: str = "rsa-client") -> list[x509.Certificate]:
    """A CA's answer to `create-csr --keystore` for the entry: the new leaf and the CA chain."""
    csr = path.with_suffix(".csr")
    run("create-csr", "--keystore", path, "--alias", alias, "--storepass", "env:SP", "--out", csr)
    request = x509.load_pem_x509_csr(csr.read_bytes())
    return list(ca.sign_csr(request, now=NOW).chain)


# --- failures leave the file byte-equal ------------------------------------------------------

FAILURES = {
    "wrong-password": (["delete", "{s}", "--alias", "rsa-client", "--storepass", "pass:wrong-pw"],
                       "Error: wrong store password for the "),
    "unknown-alias": (["delete", "{s}", "--alias", "nope", "--storepass", "env:SP"],
                      "Error: no entry with alias 'nope' in the keystore (aliases: "),
    "rename-clash": (["rename", "{s}", "--alias", "rsa-client", "--to", "Fixture-Root", "--storepass", "env:SP"],
                     "Error: the keystore already has an entry 'fixture-root'; choose another alias or delete "
                     "that entry first"),
    "import-clash": (["import", "{s}", "--trusted", str(FIXTURES / "other-root.pem"), "--alias", "rsa-client",
                      "--storepass", "env:SP"],
                     "Error: the keystore already has an entry 'rsa-client'; choose another alias or delete "
                     "that entry first"),
    "import-present": (["import", "{s}", "--trusted", str(FIXTURES / "root.pem"), "--storepass", "env:SP"],
                       "Error: the certificate CN=Fixture Root CA,O=Fixtures is already in the keystore as "
                       "'fixture-root'"),
    "reply-mismatch": (["import", "{s}", "--reply", str(FIXTURES / "client-chain.pem"), "--alias", "rsa-client",
                        "--storepass", "env:SP"],
                       "Error: the reply holds no certificate for the key of entry 'rsa-client' (none has its "
                       "public key); was the CSR made from this entry?"),
    "merge-clash": (["merge", "{s}", "{copy}", "--dest-storepass", "env:SP"],
                    "Error: the alias "),
    "wrong-keypass": (["passwd", "{s}", "--storepass", "env:SP", "--alias", "rsa-client", "--keypass",
                       "pass:wrong-key-pw", "--new-keypass", "env:KEYPW"], "Error: wrong key password for entry "),
}


@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_a_failed_edit_leaves_the_store_byte_equal(store, failure):
    args, message = FAILURES[failure]
    copy = store.with_name("copy" + store.suffix)
    shutil.copyfile(store, copy)
    original = store.read_bytes()
    result = run(*[a.format(s=store, copy=copy) for a in args], code=1)
    assert result.stderr.splitlines()[-1].startswith(message), result.stderr
    assert store.read_bytes() == original
    assert sorted(p.name for p in store.parent.iterdir()) == sorted([store.name, copy.name])  # no temp, no .bak


def test_pkcs12_key_password_cannot_differ(tmp_path):
    path = tmp_path / "s.p12"
    shutil.copyfile(FIXTURES / "keytool.p12", path)
    result = run("passwd", path, "--storepass", "env:SP", "--alias", "rsa-client", "--new-keypass", "env:KEYPW",
                 code=1)
    assert result.stderr.strip().endswith("Error: " + edit.PKCS12_OWN_KEYPASS)
    assert path.read_bytes() == (FIXTURES / "keytool.p12").read_bytes()


def _limited_file_size():
    # a real write failure: the kernel refuses to grow any file past 1 KiB (EFBIG)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))


def test_a_write_that_fails_for_lack_of_room_leaves_the_store(store):
    original = store.read_bytes()
    proc = subprocess.run([sys.executable, "-m", "keytool_py", "import", str(store), "--trusted",
                           str(FIXTURES / "other-root.pem"), "--storepass", "env:SP", "--backup"],
                          env={**os.environ, **ENV}, capture_output=True, text=True, timeout=60,
                          preexec_fn=_limited_file_size, check=False)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.strip() == f"Error: cannot write {store}: File too large; the file is unchanged"
    assert store.read_bytes() == original
    assert [p.name for p in store.parent.iterdir()] == [store.name]


def test_disk_full_on_rename_into_place(store, monkeypatch):
    """ENOSPC itself cannot be made without a full filesystem: a test double for os.replace."""
    original = store.read_bytes()

    def full(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "replace", full)
    result = run("delete", store, "--alias", "fixture-root", "--storepass", "env:SP", code=1)
    assert result.stderr.strip() == f"Error: cannot write {store}: No space left on device; the file is unchanged"
    assert store.read_bytes() == original
    assert [p.name for p in store.parent.iterdir()] == [store.name]


def test_a_store_changed_since_it_was_read_is_not_replaced(tmp_path):
    path = tmp_path / "s.jks"
    shutil.copyfile(FIXTURES / "keytool-rsa.jks", path)
    snapshot = files.read_for_edit(path, what="keystore")
    data = edit.Plan(sealed(path), edit.delete(sealed(path), "fixture-root"), PW).encode()
    # another program rewrites the file: same size, same time, other content
    changed = bytearray(path.read_bytes())
    changed[-1] ^= 1
    info = path.stat()
    path.write_bytes(bytes(changed))
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    with pytest.raises(BadInputError, match=r"s\.jks changed since ktpy read it; nothing was written "
                                            r"\(run the command again\)$"):
        files.replace_in_place(snapshot, data, backup=True)
    assert path.read_bytes() == bytes(changed)
    assert [p.name for p in tmp_path.iterdir()] == ["s.jks"]


# --- what the commands do and say ------------------------------------------------------------

def test_backup_keeps_the_old_bytes_private_and_a_world_readable_keystore_is_narrowed(store):
    original = store.read_bytes()
    os.chmod(store, 0o644)
    result = run("delete", store, "--alias", "fixture-root", "--storepass", "env:SP", "--backup")
    bak = store.with_name(store.name + ".bak")
    done, notice = result.stderr.splitlines()
    assert done.startswith(f"Deleted 'fixture-root' (trustedCertEntry): {store} (")
    assert done.endswith(f"mode 0640); the old file is {bak}")
    assert notice == (f"Notice: {store} holds keys and could be read or written by every user (mode 0644); "
                      "it is now 0640")
    assert bak.read_bytes() == original
    assert mode(bak) == 0o600 and mode(store) == 0o640
    assert "fixture-root" not in [e.alias for e in sealed(store).entries]


def test_dry_run_prints_the_plan_and_writes_nothing(store):
    original = store.read_bytes()
    result = run("rename", store, "--alias", "rsa-client", "--to", "mule-client", "--storepass", "env:SP",
                 "--dry-run")
    assert result.stdout.splitlines()[0] == "remove 'rsa-client' (PrivateKeyEntry)"
    assert result.stdout.splitlines()[1].startswith("add 'mule-client' (PrivateKeyEntry, chain of ")
    assert result.stderr.strip() == f"Dry run: {store} was not changed"
    assert store.read_bytes() == original


def test_passwd_keeps_equal_key_passwords_equal_and_says_so(tmp_path):
    path = tmp_path / "k.jceks"
    shutil.copyfile(FIXTURES / "keytool.jceks", path)
    os.chmod(path, 0o600)  # kept as it is (a 0644 keystore would be narrowed, with a notice)
    result = run("passwd", path, "--storepass", "env:SP", "--new-storepass", "env:NEWPW")
    assert result.stderr.splitlines() == [
        f"Changed the store password: {path} (JCEKS, 3 entries, mode 0600)",
        "  the key password of 'ec-client', 'rsa-client' was the store password and stays equal to it "
        "(PKCS12 and the Salesforce connector's JWT connection need that)",
    ]
    opened = keystore.load(path.read_bytes(), ENV["NEWPW"])  # every key opens with the new password
    assert all(e.key is not None for e in opened.key_entries)


def test_passwd_leaves_a_key_with_its_own_password_alone(tmp_path):
    path = tmp_path / "k.jks"
    shutil.copyfile(FIXTURES / "keytool-keypass.jks", path)
    result = run("passwd", path, "--storepass", "env:SP", "--new-storepass", "env:NEWPW")
    assert result.stderr.splitlines()[-1] == "  'distinct' keeps its own key password"
    assert keystore.load(path.read_bytes(), ENV["NEWPW"], keypass="keypass1").entry("distinct").key is not None
    result = run("passwd", path, "--storepass", "env:NEWPW", "--alias", "distinct", "--keypass", "env:KEYPW",
                 "--new-keypass", "env:NEWPW")
    assert result.stderr.splitlines()[-1] == "  the key password of 'distinct' is now the store password"
    assert keystore.load(path.read_bytes(), ENV["NEWPW"]).entry("distinct").key is not None


def test_usage_errors():
    assert "Error: give --new-storepass, or --alias with --new-keypass" in run("passwd", "x.jks", code=2).output
    assert "Error: give exactly one of --trusted, --key (with --cert) or --reply" in run(
        "import", "x.jks", code=2).output
    assert "Error: --dest-alias goes with --src-alias (the entry it renames)" in run(
        "merge", "a.jks", "b.jks", "--dest-alias", "x", code=2).output
    assert "Error: --key-password and --no-encrypt exclude each other" in run(
        "export-key", "x.jks", "-o", "k.pem", "--key-password", "env:OUTPW", "--no-encrypt", code=2).output


def test_export_key_is_pkcs8_encrypted_unless_asked_and_0600(tmp_path):
    require_tool("openssl")
    out = tmp_path / "k.pem"
    result = run("export-key", FIXTURES / "keytool-keypass.jks", "--alias", "distinct", "--storepass", "env:SP",
                 "--keypass", "env:KEYPW", "--key-password", "env:OUTPW", "-o", out)
    assert result.stderr.strip() == (f"Wrote {out} (PKCS#8 private key of 'distinct', RSA 2048, encrypted "
                                     "(PBES2, AES-256), mode 0600)")
    assert out.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert mode(out) == 0o600
    # the oracle: OpenSSL opens it with the password, and its public key is the entry's certificate's
    proc = subprocess.run(["openssl", "pkey", "-in", out, "-passin", "pass:" + ENV["OUTPW"], "-pubout"],
                          capture_output=True, timeout=30, check=True)
    entry = keystore.load((FIXTURES / "keytool-keypass.jks").read_bytes(), PW, decrypt_keys=False).entry("distinct")
    assert proc.stdout == entry.chain[0].public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    plain = tmp_path / "plain.pem"
    result = run("export-key", FIXTURES / "keytool.p12", "--alias", "ec-client", "--storepass", "env:SP",
                 "--no-encrypt", "-o", plain)
    assert "NOT encrypted, as sf org login jwt --jwt-key-file needs: keep it private, mode 0600)" in result.stderr
    assert plain.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----") and mode(plain) == 0o600


def test_create_csr_for_a_keystore_entry_keeps_key_and_subject(tmp_path):
    out = tmp_path / "r.csr"
    result = run("create-csr", "--keystore", FIXTURES / "keytool.p12", "--alias", "ec-client",
                 "--storepass", "env:SP", "--out", out)
    assert result.stderr.strip() == (f"Wrote {out} (CSR for CN=ec-client,O=Fixtures, the existing EC P-256 of "
                                     f"entry 'ec-client' in {FIXTURES / 'keytool.p12'})")
    request = x509.load_pem_x509_csr(out.read_bytes())
    entry = sealed(FIXTURES / "keytool.p12").entry("ec-client")
    assert same_public_key(request.public_key(), entry.chain[0].public_key())
    assert request.subject == entry.chain[0].subject and request.is_signature_valid


def test_create_csr_for_a_key_file(tmp_path):
    out = tmp_path / "r.csr"
    run("create-csr", "--key", FIXTURES / "client.key.enc.pem", "--key-password", "env:KEYPW",
        "--subject", "CN=renewed,O=Acme", "--out", out)
    key = load_private_key((FIXTURES / "client.key.pkcs8.pem").read_bytes())
    assert same_public_key(x509.load_pem_x509_csr(out.read_bytes()).public_key(), key.public_key())
    assert "Error: --key-out is for a new key" in run("create-csr", "--key", FIXTURES / "client.key.pkcs8.pem",
                                                      "--subject", "CN=x", "--key-out", tmp_path / "k",
                                                      "--out", out, code=2).output


def test_build_keystore_with_several_groups_or_a_clear_error(tmp_path, clients):
    pems = {}
    for n, (_, leaf) in enumerate(sorted(clients.items(), key=lambda kv: kv[0].value)):
        (tmp_path / f"{n}.key").write_bytes(private_key_to_pem(leaf.key))
        (tmp_path / f"{n}.pem").write_bytes(to_pem(leaf.chain))
        pems[n] = leaf
    out = tmp_path / "two.jks"
    result = run("build-keystore", "--type", "jks", "--key", tmp_path / "0.key", "--cert", tmp_path / "0.pem",
                 "--alias", "first", "--key", tmp_path / "1.key", "--cert", tmp_path / "1.pem", "--alias", "second",
                 "--storepass", "env:SP", "-o", out)
    assert "mode 0600: 2 key entries: 'first' (chain of 2: " in result.stderr
    loaded = keystore.load(out.read_bytes(), PW)
    assert [(e.alias, e.chain) for e in loaded.entries] == [("first", pems[0].chain), ("second", pems[1].chain)]
    result = run("build-keystore", "--type", "jks", "--key", tmp_path / "0.key", "--cert", tmp_path / "0.pem",
                 "--alias", "first", "--key", tmp_path / "1.key", "--storepass", "env:SP", "-o", tmp_path / "x.jks",
                 code=2)
    assert ("Error: give one --cert and one --alias for each --key (2 --key, 1 --cert, 1 --alias): the n-th of each "
            "make one key entry") in result.output
    assert not (tmp_path / "x.jks").exists()


# --- the edits as values ---------------------------------------------------------------------

def test_reply_is_ordered_completed_from_the_store_and_checked(ca, tmp_path):
    path = tmp_path / "s.jks"
    shutil.copyfile(FIXTURES / "keytool-rsa.jks", path)
    leaf, root = renewed_reply(ca, path)
    before = sealed(path)
    after = edit.apply_reply(before, "rsa-client", [root, leaf])  # any order
    assert after.entry("rsa-client").chain == (leaf, root)
    assert after.entry("rsa-client").sealed == before.entry("rsa-client").sealed  # the key is carried as it was
    with_root = edit.add_trusted(before, [root], alias="ktpy-root")
    assert edit.apply_reply(with_root, "rsa-client", [leaf]).entry("rsa-client").chain == (leaf, root)
    with pytest.raises(BadInputError, match=r"^the reply holds only the certificate, and its issuer CN=ktpy Test "
                                            r"Root CA,O=Acme,C=US is neither in the reply nor in the keystore; "):
        edit.apply_reply(before, "rsa-client", [leaf])
    with pytest.raises(BadInputError, match="is a trustedCertEntry, not a private key entry"):
        edit.apply_reply(before, "fixture-root", [leaf, root])
    other_root = load_certificates((FIXTURES / "root.pem").read_bytes())
    with pytest.raises(BadInputError, match="^certificate\\(s\\) not in the chain of "):
        edit.apply_reply(before, "rsa-client", [leaf, root, *other_root])
    with pytest.raises(MismatchError):
        edit.apply_reply(before, "rsa-client", [root])


def test_reply_as_pkcs7(ca, tmp_path):
    require_tool("openssl")
    path = tmp_path / "s.jceks"
    shutil.copyfile(FIXTURES / "keytool.jceks", path)
    chain = renewed_reply(ca, path)
    (tmp_path / "chain.pem").write_bytes(to_pem(chain))
    for form in ("PEM", "DER"):
        p7b = tmp_path / f"reply-{form}.p7b"
        subprocess.run(["openssl", "crl2pkcs7", "-nocrl", "-certfile", tmp_path / "chain.pem", "-outform", form,
                        "-out", p7b], check=True, timeout=30, capture_output=True)
        assert edit.read_reply(p7b.read_bytes(), what=str(p7b)) in (chain, chain[::-1])
    run("import", path, "--reply", tmp_path / "reply-DER.p7b", "--alias", "rsa-client", "--storepass", "env:SP")
    assert sealed(path).entry("rsa-client").chain == tuple(chain)


def test_merge_and_rename_rules():
    dest = sealed(FIXTURES / "keytool-rsa.jks")
    src = sealed(FIXTURES / "keytool-ec.jks")
    with pytest.raises(BadInputError, match="^the alias 'fixture-root' is already in the destination keystore; "
                                            "take it under another name with --src-alias fixture-root "
                                            "--dest-alias NEW$"):
        edit.merge(dest, [src])
    merged = edit.merge(dest, [src], src_alias="ec-client", dest_alias="EC")
    assert [e.alias for e in merged.entries] == ["fixture-root", "rsa-client", "ec"]
    assert merged.entries[-1].sealed == src.entry("ec-client").sealed
    with pytest.raises(BadInputError, match="^no source keystore holds an entry 'nope'$"):
        edit.merge(dest, [src], src_alias="nope")
    with pytest.raises(BadInputError, match="^the entry is already named 'rsa-client'$"):
        edit.rename(dest, "rsa-client", "RSA-Client")
    only = edit.delete(dest, "fixture-root")
    with pytest.raises(BadInputError, match="^the entry 'rsa-client' is the only one in the keystore"):
        edit.delete(only, "rsa-client")


def test_a_secret_key_cannot_be_merged_into_jks(tmp_path):
    dest = sealed(FIXTURES / "keytool-rsa.jks")
    secret = keystore.Entry(alias="aes", kind=EntryKind.SECRET_KEY, secret=keystore.SecretKey("AES", b"k" * 16))
    src = keystore.Keystore(keystore.StoreType.JCEKS, (secret,))
    plan = edit.Plan(dest, edit.merge(dest, [src]), PW)
    with pytest.raises(UnsupportedError, match="'aes' is a secret key, which a JKS keystore cannot hold"):
        plan.encode()


@pytest.mark.parametrize(("name", "mac"), [("openssl-legacy.p12", "sha1"), ("keytool.p12", "sha256")])
def test_an_edited_pkcs12_keeps_the_java_it_was_readable_by(tmp_path, name, mac):
    """A store with a SHA-1 MAC (what Java 8 before 8u301 reads) stays so after an edit."""
    require_tool("openssl")
    path = tmp_path / name
    shutil.copyfile(FIXTURES / name, path)
    run("import", path, "--trusted", FIXTURES / "other-root.pem", "--alias", "partner", "--storepass", "env:SP")
    proc = subprocess.run(["openssl", "pkcs12", "-info", "-noout", "-in", path, "-passin", "env:SP"],
                          env={**os.environ, "SP": PW}, capture_output=True, text=True, timeout=30, check=False)
    assert f"MAC: {mac}," in proc.stderr, proc.stderr
    if mac == "sha1":
        assert "pbeWithSHA1And3-KeyTripleDES-CBC" in proc.stderr, proc.stderr


def test_passwd_generated_password_file_only_with_the_store(tmp_path, monkeypatch):
    path, new = tmp_path / "s.jks", tmp_path / "new-pass.txt"
    shutil.copyfile(FIXTURES / "keytool-rsa.jks", path)
    original = path.read_bytes()

    def full(*_args):
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(files.os, "replace", full)
        run("passwd", path, "--storepass", "env:SP", "--new-storepass", f"generate:{new}", code=1)
    assert path.read_bytes() == original and not new.exists()  # no password for a store never written
    run("passwd", path, "--storepass", "env:SP", "--new-storepass", f"generate:{new}")
    assert mode(new) == 0o600
    assert keystore.load(path.read_bytes(), new.read_text().strip()).entry("rsa-client").key is not None


def test_merge_of_a_key_with_its_own_password_into_another_type(tmp_path):
    dest = tmp_path / "d.p12"
    shutil.copyfile(FIXTURES / "keytool-truststore.p12", dest)
    original = dest.read_bytes()
    result = run("merge", dest, FIXTURES / "keytool-keypass.jks", "--dest-storepass", "env:SP", code=1)
    assert result.stderr.strip() == ("Error: the key of entry 'distinct' has a password of its own and must be "
                                     "protected anew for a PKCS12 keystore; give that password with --src-keypass")
    assert dest.read_bytes() == original
    # a source with both kinds of key: one under its store password, one under its own
    src = tmp_path / "both.jks"
    shutil.copyfile(FIXTURES / "keytool-keypass.jks", src)
    run("merge", src, FIXTURES / "keytool-rsa.jks", "--dest-storepass", "env:SP", "--src-alias", "rsa-client")
    run("merge", dest, src, "--dest-storepass", "env:SP", "--src-keypass", "env:KEYPW")
    merged = keystore.load(dest.read_bytes(), PW)  # every key now under the store password
    assert [e.alias for e in merged.key_entries] == ["distinct", "rsa-client"]
    assert all(e.key is not None for e in merged.key_entries)
