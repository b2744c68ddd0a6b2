"""Edits judged by Java: the JDK KeyStore API (tests/java/JavaView.java) shows every
entry an edit does not touch exactly as before, keys and secret keys decrypted; keytool itself
(tests/java/KeytoolBatch.java, one JVM for every listing) lists exactly the expected aliases,
kinds and fingerprints after each edit of each store type; and the renewal path ends in a Java
mTLS handshake with the new chain.

The stores edited are the corpus in fixtures/ (corpus.json: keytool, OpenSSL, NSS, GnuTLS, Bouncy
Castle, the JDK API, pyca; secret keys, own key passwords, odd aliases). The JVM work is batched:
one JavaView run, one keytool run, one handshake per store type."""

from __future__ import annotations

import functools
import json
import re
import shutil
from pathlib import Path

import pytest
from cryptography import x509
from helpers import NOW, ktpy, require_tool
from interop import (
    JAVA_OK,
    MtlsServer,
    describe,
    keytool_list_command,
    parse_keytool_list,
    run_java,
    run_java_client,
)
from javaview import Request, compile_view, java_view

from keytool_py import keystore
from keytool_py.certs import fingerprint, to_pem
from keytool_py.keys import private_key_to_pem

pytestmark = pytest.mark.interop

FIXTURES = Path(__file__).parent.parent / "fixtures"
JAVA_DIR = Path(__file__).parent / "java"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())
PW = "changeit"
ENV = {"SP": PW, "NEWPW": "new-store-pw"}
NEW_PW = ENV["NEWPW"]
run = functools.partial(ktpy, env=ENV)


# --- keytool's own code, many command lines in one JVM ---------------------------------------

def keytool_batch(commands: list[list[str]]) -> list[tuple[int, str]]:
    """(exit code, output) of each keytool command line, all run by keytool's own code in one JVM."""
    require_tool("java")
    lines = "".join("\t".join(str(a) for a in cmd) + "\n" for cmd in commands)
    proc = run_java("--add-opens", "java.base/sun.security.tools.keytool=ALL-UNNAMED",
                    JAVA_DIR / "KeytoolBatch.java", input=lines, timeout=300)
    assert proc.returncode == 0, describe(proc)
    parts = re.split(r"^@@END (\d)\n", proc.stdout, flags=re.M)
    results = [(int(parts[i + 1]), parts[i]) for i in range(0, len(parts) - 1, 2)]
    assert len(results) == len(commands), proc.stdout
    return results


def parse_listing(text: str) -> dict[str, tuple[str, list[str]]]:
    """keytool -list -v output -> {alias: (entry type, [SHA-256 of each certificate])}."""
    return {e.alias: (e.kind, list(e.sha256)) for e in parse_keytool_list(text)}


# --- the corpus: every store in fixtures/corpus.json that has a store password ---------------

CORPUS = json.loads((FIXTURES / "corpus.json").read_text(encoding="utf-8"))
# A store is written with a store password of at least 6 characters (keytool's rule): stores
# without one (password-less PKCS12, an empty password) are read by ktpy but not edited.
# (BKS and UBER are read only: edits refuse them, see test_bks.py)
EDITABLE = sorted(n for n, info in CORPUS.items() if info["storepass"] and len(info["storepass"]) >= 6
                  and info["type"] not in ("bks", "uber"))


def _edits(store_type: str, sealed: keystore.Keystore, ca, client, tmp: Path):
    """(name, CLI arguments after the store, the existing alias it deletes or renames) of each edit, applied in this
    order to one copy; passwd comes last and changes the store password to NEW_PW."""
    aliases = [e.alias for e in sealed.entries] or ["(none)"]  # Java sees no entry in some stores
    root_pem = tmp / "ktpy-root.pem"
    root_pem.write_bytes(to_pem([ca.root]))
    key_pem, chain_pem = tmp / "k.pem", tmp / "chain.pem"
    key_pem.write_bytes(private_key_to_pem(client.key))
    chain_pem.write_bytes(to_pem(client.chain))
    src = tmp / f"src-{store_type}"
    src.write_bytes(keystore.build_store(store_type, [keystore.Entry(
        alias="merged-root", chain=(ca.root,), kind=keystore.EntryKind.TRUSTED_CERT)], storepass=PW))
    edits = [
        ("delete", ["delete", "{s}", "--alias", aliases[0], "--storepass", "env:SP"], aliases[0]),
        ("rename", ["rename", "{s}", "--alias", aliases[-1], "--to", "renamed", "--storepass", "env:SP"],
         aliases[-1]),
        ("trusted", ["import", "{s}", "--trusted", root_pem, "--alias", "ktpy-root", "--storepass", "env:SP"], None),
        ("key", ["import", "{s}", "--key", key_pem, "--cert", chain_pem, "--alias", "new-key", "--storepass",
                 "env:SP"], None),
        ("merge", ["merge", "{s}", src, "--dest-storepass", "env:SP"], None),
        # a JKS key into every type: re-protected with the destination's password where the type differs
        ("merge-key", ["merge", "{s}", FIXTURES / "keytool-rsa.jks", "--dest-storepass", "env:SP", "--src-alias",
                       "rsa-client", "--dest-alias", "merged-key"], None),
        ("passwd", ["passwd", "{s}", "--storepass", "env:SP", "--new-storepass", "env:NEWPW"], None),
    ]
    if not sealed.entries:
        return edits[2:]
    return edits[1:] if len(aliases) == 1 else edits


def test_every_edit_leaves_untouched_entries_as_java_sees_them(ca, clients, tmp_path):
    """Each store of the corpus takes every edit in turn (delete, rename, the imports, merge,
    then passwd) on one copy; Java views the originals and the copies in one JVM, and each entry
    no edit touched must look the same to it, key or secret key decrypted."""
    require_tool("javac")
    client = next(iter(clients.values()))
    originals, edited, touched_by = [], [], {}
    for name in EDITABLE:
        info = CORPUS[name]
        sealed = keystore.load((FIXTURES / name).read_bytes(), PW, decrypt_keys=False)
        work = tmp_path / name.replace(".", "_")
        work.mkdir()
        path = work / name
        shutil.copyfile(FIXTURES / name, path)
        touched = {}
        for edit_name, args, alias in _edits(info["type"], sealed, ca, client, work):
            run(*[str(a).format(s=path) for a in args])
            touched[edit_name] = alias
        touched_by[name] = (touched.get("delete"), touched.get("rename"))
        originals.append(Request(info["type"], FIXTURES / name, info["storepass"], info["keypass"]))
        edited.append(Request(info["type"], path, NEW_PW, info["keypass"]))
    views = java_view(compile_view(tmp_path / "javaview"), originals + edited, long_run=True)
    checked = secrets = 0
    for name, before, after in zip(EDITABLE, views[:len(originals)], views[len(originals):], strict=True):
        assert before["ok"] and after["ok"], (name, before, after)
        deleted, renamed = touched_by[name]
        new = {e["alias"]: e for e in after["entries"]}
        assert set(new) - {"renamed", "ktpy-root", "new-key", "merged-root", "merged-key"} == \
            {e["alias"] for e in before["entries"]} - {deleted, renamed}, name
        for entry in before["entries"]:
            if entry["alias"] == deleted:
                continue
            if entry["alias"] == renamed:  # the same entry under its new name
                if entry["kind"] == "unreachable":  # a mixed-case alias: renaming makes it reachable
                    continue
                entry = dict(entry, alias="renamed")
            assert new[entry["alias"]] == entry, (name, entry["alias"])
            checked += 1
            secrets += "secret_sha256" in entry
        assert "key_algorithm" in new["new-key"] and "key_algorithm" in new["merged-key"], (name, new)
    assert checked >= 50 and secrets >= 5, (checked, secrets)  # not vacuous: secret keys are among them


# --- keytool -list -v after each command, each store type -----------------------------------

STORES = {"jks": "keytool-rsa.jks", "jceks": "keytool.jceks", "pkcs12": "keytool.p12"}
MERGE_SOURCES = {"jks": ("keytool-keypass.jks", None), "jceks": ("keytool-keypass.jceks", None),
                 "pkcs12": ("keytool-truststore.p12", "other-root")}


def _fixture_entries(name: str) -> dict[str, tuple[str, list[str]]]:
    return {e["alias"]: (e["kind"], e["sha256"]) for e in EXPECTED[name]["entries"]}


def test_keytool_lists_exactly_what_each_edit_should_leave(ca, clients, tmp_path):
    client = next(iter(clients.values()))
    (tmp_path / "root.pem").write_bytes(to_pem([ca.root]))
    (tmp_path / "k.pem").write_bytes(private_key_to_pem(client.key))
    (tmp_path / "chain.pem").write_bytes(to_pem(client.chain))
    fp = fingerprint
    commands, expectations = [], []
    for store_type, name in STORES.items():
        base = _fixture_entries(name)

        def case(edit_name, args, expected, storepass=PW, *, store_type=store_type, name=name):
            path = tmp_path / f"{edit_name}-{name}"
            shutil.copyfile(FIXTURES / name, path)
            run(*[str(a).format(s=path) for a in args])
            commands.append(keytool_list_command(path, store_type, storepass))
            expectations.append((f"{edit_name} {store_type}", expected))
            return path

        case("delete", ["delete", "{s}", "--alias", "fixture-root", "--storepass", "env:SP"],
             {a: v for a, v in base.items() if a != "fixture-root"})
        case("rename", ["rename", "{s}", "--alias", "rsa-client", "--to", "Mule-Client", "--storepass", "env:SP"],
             {("mule-client" if a == "rsa-client" else a): v for a, v in base.items()})
        case("passwd", ["passwd", "{s}", "--storepass", "env:SP", "--new-storepass", "env:NEWPW"], base, NEW_PW)
        case("trusted", ["import", "{s}", "--trusted", tmp_path / "root.pem", "--alias", "ktpy-root",
                         "--storepass", "env:SP"], {**base, "ktpy-root": ("trustedCertEntry", [fp(ca.root)])})
        case("key", ["import", "{s}", "--key", tmp_path / "k.pem", "--cert", tmp_path / "chain.pem", "--alias",
                     "new-key", "--storepass", "env:SP"],
             {**base, "new-key": ("PrivateKeyEntry", [fp(c) for c in client.chain])})
        src, src_alias = MERGE_SOURCES[store_type]
        merged = {a: v for a, v in _fixture_entries(src).items() if src_alias in (None, a)}
        case("merge", ["merge", "{s}", FIXTURES / src, "--dest-storepass", "env:SP"]
             + (["--src-alias", src_alias, "--dest-alias", "partner-root"] if src_alias else []),
             {**base, **({"partner-root": merged[src_alias]} if src_alias else merged)})
        reply_path = tmp_path / f"reply-{name}"
        shutil.copyfile(FIXTURES / name, reply_path)
        run("create-csr", "--keystore", reply_path, "--alias", "rsa-client", "--storepass", "env:SP",
            "--out", tmp_path / f"{name}.csr")
        signed = ca.sign_csr(x509.load_pem_x509_csr((tmp_path / f"{name}.csr").read_bytes()), now=NOW)
        (tmp_path / f"{name}-signed.pem").write_bytes(to_pem(signed.chain))
        case("reply", ["import", "{s}", "--reply", tmp_path / f"{name}-signed.pem", "--alias", "rsa-client",
                       "--storepass", "env:SP"],
             {**base, "rsa-client": ("PrivateKeyEntry", [fp(c) for c in signed.chain])})
    results = keytool_batch(commands)
    for (label, expected), (code, output) in zip(expectations, results, strict=True):
        assert code == 0, (label, output)
        assert parse_listing(output) == expected, label
    assert len(results) == 21


# --- renewal, end to end ---------------------------------------------------------------------

def test_renewal_from_kit_to_a_java_handshake_with_the_new_chain(java_classes, server_pki, server_root_pem,
                                                                  tmp_path):
    kit = tmp_path / "kit"
    run("kit", "--out-dir", kit, "--subject", "CN=mule-client,O=Acme", "--storepass", "env:SP")
    csr = tmp_path / "renew.csr"
    run("create-csr", "--keystore", kit / "keystore.jks", "--alias", "mule-client", "--storepass", "env:SP",
        "--subject", "CN=mule-client-renewed,O=Acme", "--out", csr)
    signed = tmp_path / "signed.pem"
    run("sign-csr", csr, "--ca", kit / "ca", "--ca-password", f"file:{kit / 'ca' / 'ca-password.txt'}",
        "--out", signed, "--with-chain")
    new_chain = [fingerprint(c) for c in x509.load_pem_x509_certificates(signed.read_bytes())]
    client_root = x509.load_pem_x509_certificate((kit / "ca" / "ca.pem").read_bytes())
    with MtlsServer(server=server_pki[1], client_root=client_root, workdir=tmp_path / "server") as server:
        for store_type, file_name in (("JKS", "keystore.jks"), ("PKCS12", "keystore.p12"),
                                      ("JCEKS", "keystore.jceks")):
            store = kit / file_name
            result = run("import", store, "--reply", signed, "--alias", "mule-client", "--storepass", "env:SP",
                         "--backup")
            assert result.stderr.startswith("Installed the CA reply in 'mule-client' (chain of 2: "
                                            "CN=mule-client-renewed,O=Acme, "), result.stderr
            entry = keystore.load(store.read_bytes(), PW, decrypt_keys=False).entry("mule-client")
            assert [fingerprint(c) for c in entry.chain] == new_chain
            mark = server.mark()
            code, output = run_java_client(java_classes, store_type=store_type, store_path=store, storepass=PW,
                                           keypass=PW, trust_pem=server_root_pem, port=server.port)
            assert code == JAVA_OK, output
            outcome = server.outcome_after(mark)
            assert outcome.accepted and outcome.subject == "CN=mule-client-renewed,O=Acme", outcome
