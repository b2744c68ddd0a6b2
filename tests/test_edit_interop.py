"""Edits judged by Java (issue 12): the JDK KeyStore API (tests/java/JavaView.java) shows every
entry an edit does not touch exactly as before, keys and secret keys decrypted; keytool itself
(tests/java/KeytoolBatch.java, one JVM for every listing) lists exactly the expected aliases,
kinds and fingerprints after each edit of each store type; and the renewal path ends in a Java
mTLS handshake with the new chain.

The stores edited are the fixtures made by keytool and OpenSSL, plus stores with secret keys that
keytool makes here (-genseckey). The JVM work is batched: one JavaView run, one keytool run."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import NOW, require_tool
from cryptography import x509
from interop import JAVA_OK, JVM_FAST_START, MtlsServer, describe, run_java_client
from test_edit import ENV, run

from keytool_py import keystore
from keytool_py.certs import fingerprint, to_pem
from keytool_py.keys import private_key_to_pem

pytestmark = pytest.mark.interop

FIXTURES = Path(__file__).parent.parent / "fixtures"
JAVA_DIR = Path(__file__).parent / "java"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())
PW = "changeit"
NEW_PW = ENV["NEWPW"]
OWN_KEYPASS = ENV["KEYPW"]  # the fixtures' own key password (entries 'distinct'), and the secret key 'hmac'
KEYTOOL_TYPES = {"jks": "JKS", "jceks": "JCEKS", "pkcs12": "PKCS12"}


# --- the oracles: one JVM each ---------------------------------------------------------------

def java_view(requests: list[tuple[str, Path, str, str | None]]) -> dict[Path, dict]:
    """JavaView over (keytool type, path, storepass, keypass or None) requests, in one JVM."""
    require_tool("java")

    def hexed(text):
        return "-" if text is None else text.encode().hex()

    lines = "".join(f"{t}\t{p}\t{hexed(sp)}\t{hexed(kp)}\n" for t, p, sp, kp in requests)
    proc = subprocess.run(["java", *JVM_FAST_START, str(JAVA_DIR / "JavaView.java")], input=lines,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, describe(proc)
    views = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(views) == len(requests), proc.stdout
    return {Path(v["path"]): v for v in views}


def keytool_batch(commands: list[list[str]]) -> list[tuple[int, str]]:
    """(exit code, output) of each keytool command line, all run by keytool's own code in one JVM."""
    require_tool("java")
    lines = "".join("\t".join(str(a) for a in cmd) + "\n" for cmd in commands)
    proc = subprocess.run(["java", *JVM_FAST_START, "--add-opens", "java.base/sun.security.tools.keytool=ALL-UNNAMED",
                           str(JAVA_DIR / "KeytoolBatch.java")], input=lines, capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 0, describe(proc)
    parts = re.split(r"^@@END (\d)\n", proc.stdout, flags=re.M)
    results = [(int(parts[i + 1]), parts[i]) for i in range(0, len(parts) - 1, 2)]
    assert len(results) == len(commands), proc.stdout
    return results


def parse_listing(text: str) -> dict[str, tuple[str, list[str]]]:
    """keytool -list -v output -> {alias: (entry type, [SHA-256 of each certificate])}."""
    found = {}
    for block in re.split(r"^Alias name: ", text, flags=re.M)[1:]:
        alias = block.splitlines()[0]
        kind = re.search(r"^Entry type: (\S+)", block, re.M).group(1)
        found[alias] = (kind, re.findall(r"^\s+SHA256: (\S+)$", block, re.M))
    return found


def listing_command(path: Path, store_type: str, storepass: str) -> list[str]:
    return ["-list", "-v", "-keystore", str(path), "-storetype", KEYTOOL_TYPES[store_type], "-storepass", storepass]


# --- the corpus: fixtures, and secret-key stores keytool makes ------------------------------

@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, tuple[str, str | None]]:
    """{file name: (store type, key password for entries with their own)} in a folder of originals."""
    folder = tmp_path_factory.mktemp("corpus")
    stores = {}
    for name, info in EXPECTED.items():
        shutil.copyfile(FIXTURES / name, folder / name)
        own = any(e["alias"] == "distinct" for e in info["entries"])
        stores[name] = (info["type"], OWN_KEYPASS if own else None)
    # secret keys: AES under the store password, HmacSHA256 under its own password (JCEKS)
    shutil.copyfile(FIXTURES / "keytool.jceks", folder / "secret.jceks")
    shutil.copyfile(FIXTURES / "keytool.p12", folder / "secret.p12")
    gen = ["-genseckey", "-keysize", "128", "-storepass", PW]
    results = keytool_batch([
        [*gen, "-alias", "aes", "-keyalg", "AES", "-keystore", folder / "secret.jceks", "-storetype", "JCEKS"],
        [*gen[:-2], "-alias", "hmac", "-keyalg", "HmacSHA256", "-keystore", folder / "secret.jceks",
         "-storetype", "JCEKS", "-storepass", PW, "-keypass", OWN_KEYPASS],
        [*gen, "-alias", "aes", "-keyalg", "AES", "-keystore", folder / "secret.p12", "-storetype", "PKCS12"],
    ])
    assert [code for code, _ in results] == [0, 0, 0], results
    stores["secret.jceks"] = ("jceks", OWN_KEYPASS)
    stores["secret.p12"] = ("pkcs12", None)
    return folder, stores


def _edits(store_type: str, sealed: keystore.Keystore, ca, client, tmp: Path):
    """(name, CLI arguments after the store, aliases touched, store password after) for each edit."""
    aliases = [e.alias for e in sealed.entries]
    root_pem = tmp / "ktpy-root.pem"
    root_pem.write_bytes(to_pem([ca.root]))
    key_pem, chain_pem = tmp / "k.pem", tmp / "chain.pem"
    key_pem.write_bytes(private_key_to_pem(client.key))
    chain_pem.write_bytes(to_pem(client.chain))
    src = tmp / f"src-{store_type}"
    src.write_bytes(keystore.build_store(store_type, [keystore.Entry(
        alias="merged-root", chain=(ca.root,), kind=keystore.EntryKind.TRUSTED_CERT)], storepass=PW))
    edits = [
        ("delete", ["delete", "{s}", "--alias", aliases[0], "--storepass", "env:SP"], {aliases[0]}, PW),
        ("rename", ["rename", "{s}", "--alias", aliases[-1], "--to", "renamed", "--storepass", "env:SP"],
         {aliases[-1], "renamed"}, PW),
        ("passwd", ["passwd", "{s}", "--storepass", "env:SP", "--new-storepass", "env:NEWPW"], set(), NEW_PW),
        ("trusted", ["import", "{s}", "--trusted", root_pem, "--alias", "ktpy-root", "--storepass", "env:SP"],
         {"ktpy-root"}, PW),
        ("key", ["import", "{s}", "--key", key_pem, "--cert", chain_pem, "--alias", "new-key", "--storepass",
                 "env:SP"], {"new-key"}, PW),
        ("merge", ["merge", "{s}", src, "--dest-storepass", "env:SP"], {"merged-root"}, PW),
    ]
    if len(aliases) == 1:
        edits = [e for e in edits if e[0] not in ("delete",)]
    return edits


def test_every_edit_leaves_untouched_entries_as_java_sees_them(corpus, ca, clients, tmp_path):
    """Per store: one copy takes every edit but passwd in turn (delete, rename, imports, merge),
    another the store password change; Java views the originals and both copies in one JVM."""
    folder, stores = corpus
    client = next(iter(clients.values()))
    requests, cases = [], []
    for name, (store_type, own) in sorted(stores.items()):
        original = folder / name
        requests.append((KEYTOOL_TYPES[store_type], original, PW, own))
        sealed = keystore.load(original.read_bytes(), PW, decrypt_keys=False)
        work = tmp_path / name.replace(".", "_")
        work.mkdir()
        edited, changed = work / f"edited-{name}", work / f"passwd-{name}"
        shutil.copyfile(original, edited)
        shutil.copyfile(original, changed)
        touched: set[str] = set()
        for edit_name, args, aliases, storepass in _edits(store_type, sealed, ca, client, work):
            path = changed if edit_name == "passwd" else edited
            run(*[str(a).format(s=path) for a in args])
            if edit_name == "passwd":
                requests.append((KEYTOOL_TYPES[store_type], path, storepass, own))
                cases.append((original, path, set(), edit_name))
            else:
                touched |= aliases
                cases.append((original, path, aliases, edit_name))
        requests.append((KEYTOOL_TYPES[store_type], edited, PW, own))
        cases.append((original, edited, touched, "all but passwd"))
    views = java_view(requests)
    checked = 0
    for original, path, touched, edit_name in cases:
        if edit_name not in ("passwd", "all but passwd"):
            continue
        before, after = views[original], views[path]
        assert before["ok"] and after["ok"], (before, after)
        old = {e["alias"]: e for e in before["entries"]}
        new = {e["alias"]: e for e in after["entries"]}
        assert set(new) - touched == set(old) - touched, (path, sorted(old), sorted(new))
        for alias in set(old) - touched:
            assert new[alias] == old[alias], (edit_name, path.name, alias)
            assert "key_error" not in new[alias], (edit_name, path.name, new[alias])
            checked += 1
    for original, path, touched, edit_name in cases:
        if edit_name == "rename":  # the renamed entry is the same entry under its new name
            new = {e["alias"]: e for e in views[path]["entries"]}
            old = {e["alias"]: e for e in views[original]["entries"]}
            assert dict(new["renamed"], alias=None) == dict(old[max(touched - {"renamed"})], alias=None)
        if edit_name == "key":
            added = next(e for e in views[path]["entries"] if e["alias"] == "new-key")
            assert added["kind"] == "PrivateKeyEntry" and "key_algorithm" in added, added
    secret_views = [e for p, v in views.items() if p.name.startswith("passwd-secret") for e in v["entries"]]
    assert {e["alias"] for e in secret_views if e["kind"] == "SecretKeyEntry"} == {"aes", "hmac"}
    assert all("secret_sha256" in e for e in secret_views if e["kind"] == "SecretKeyEntry")
    assert checked >= 30  # not vacuous: 11 stores, most entries untouched by the edits


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
            commands.append(listing_command(path, store_type, storepass))
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
