"""The differential test: over every store in fixtures/ (corpus.json, made by real tools), ktpy
sees what the JDK's KeyStore API sees (tests/java/JavaView.java is the oracle), and `ktpy convert`
does to each store, for each target type, what fixtures/convert-outcomes.json pins: converted,
and then the output has the same Java view, or refused for the named reason, in the exact
sentence naming the entry. One JVM run per phase, not one per store."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ktpy, missing, require_tool
from javaview import Request, compile_view, java_key_algorithm, java_view, normalized

from keytool_py import keystore

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
CORPUS = json.loads((FIXTURES / "corpus.json").read_text(encoding="utf-8"))
NAMES = sorted(CORPUS)
OUTCOMES = json.loads((FIXTURES / "convert-outcomes.json").read_text(encoding="utf-8"))["outcomes"]
# Why convert may refuse a store, each as the exact sentence the user reads ({entry}: the alias,
# {path}: the source store).
REFUSALS = {
    "secret-key-into-jks": "Error: the entry '{entry}' is a secret key, which a JKS keystore cannot hold; "
                           "convert to JCEKS or PKCS12 instead\n",
    "unlinked-chain": "Error: the chain of entry '{entry}' is not linked by issuer, and Java rebuilds PKCS12 chains "
                      "by issuer: it would read 1 of its 2 certificates; keep it in JKS or JCEKS, or fix the chain\n",
    "aliases-equal-but-for-case": "Error: two entries would have the alias '{entry}' (Java ignores case)\n",
    "nothing-java-sees": "Error: {path} holds no entry that Java sees (Java ignores unencrypted key bags), "
                         "so there is nothing to convert\n",
    "key-without-certificate": "Error: the key entry '{entry}' has no certificate, and a {type} keystore needs one "
                               "with every key (Java refuses it); keep it in PKCS12, or add its certificate\n",
}
TYPES = ["jks", "jceks", "pkcs12"]
KTPY_LINE = re.compile(r"^(Error|Warning|Notice|Wrote)[: ]")


def _env(info) -> dict:
    env = {}
    if info["storepass"] is not None:
        env["KTPY_STOREPASS"] = info["storepass"]
    if info["keypass"] is not None:
        env["KTPY_KEYPASS"] = info["keypass"]
    return env


def _pass_args(info) -> list[str]:
    args = ["--storepass", "env:KTPY_STOREPASS"] if info["storepass"] is not None else ["--no-storepass"]
    return args + (["--keypass", "env:KTPY_KEYPASS"] if info["keypass"] is not None else [])


@pytest.fixture(scope="module")
def view_classes(tmp_path_factory):
    require_tool("javac")
    return compile_view(tmp_path_factory.mktemp("javaview"))


@pytest.fixture(scope="module")
def corpus_views(view_classes):
    requests = [Request(CORPUS[n]["type"], FIXTURES / n, CORPUS[n]["storepass"], CORPUS[n]["keypass"])
                for n in NAMES]
    return dict(zip(NAMES, java_view(view_classes, requests), strict=True))


def ktpy_view(name: str) -> dict:
    """What ktpy shows: `ktpy inspect --json` for aliases, kinds and chains; the library with
    the key password for each key's algorithm and each secret key's bytes."""
    info = CORPUS[name]
    result = ktpy("inspect", str(FIXTURES / name), "--json",
                  *_pass_args(info)[:2], env=_env(info), code=None)
    assert result.exit_code == 0, (name, result.output)
    assert all(KTPY_LINE.match(line) for line in result.stderr.splitlines()), result.stderr
    described = json.loads(result.stdout)
    data = (FIXTURES / name).read_bytes()
    keypass = info["keypass"] if info["keypass"] is not None else info["storepass"]
    opened = {e.alias: e for e in keystore.load(data, info["storepass"], keypass=keypass).entries} \
        if keypass is not None else {}
    store = keystore.load(data, info["storepass"], decrypt_keys=False)
    rows = {e["alias"]: e for e in described["entries"]}
    entries = []
    for listed in described["entries"]:
        # Java lists stored aliases but looks each one up in lowercase (Keystore.find does the same)
        found = store.find(listed["alias"])
        if found is None:
            entries.append({"alias": listed["alias"], "kind": "unreachable", "chain": []})
            continue
        assert listed.get("unreachable", False) == (found.alias != listed["alias"])
        e = rows[found.alias]
        row = {"alias": listed["alias"], "kind": e["kind"], "chain": [c["sha256"] for c in e["chain"]]}
        entry = opened.get(e["alias"])
        if entry is not None and entry.key is not None:
            row["key_algorithm"] = java_key_algorithm(entry.key, entry.key_pkcs8)
        if entry is not None and entry.secret is not None:
            row["key_algorithm"] = entry.secret.algorithm
            row["secret_sha256"] = ":".join(f"{b:02X}" for b in hashlib.sha256(entry.secret.value).digest())
        entries.append(row)
    return {"entries": entries}


@pytest.mark.parametrize("name", NAMES)
def test_ktpy_sees_what_java_sees(name, corpus_views):
    java = corpus_views[name]
    assert java["ok"], java
    assert normalized(ktpy_view(name)) == normalized(java)


def test_corpus_covers_the_tools():
    made_by = " ".join(i["made_by"] for i in CORPUS.values())
    for tool in ("keytool", "openssl", "NSS pk12util", "GnuTLS certtool", "Bouncy Castle", "cryptography",
                 "JDK KeyStore"):
        assert tool in made_by, tool
    assert len(CORPUS) >= 40


# --- convert between every pair of types ---------------------------------------------------

@pytest.fixture(scope="module")
def conversions(view_classes, tmp_path_factory):
    """Every corpus store converted to every type: {(name, type): (output path or None, stderr)},
    and the Java views of the outputs (one JVM run)."""
    out_dir = tmp_path_factory.mktemp("converted")
    results, requests = {}, []
    for name in NAMES:
        info = CORPUS[name]
        for target in TYPES:
            out = out_dir / f"{name}.{target}"
            args = ["convert", str(FIXTURES / name), "--to", target, "-o", str(out), *_pass_args(info)]
            dest_pw = info["storepass"] if info["storepass"] and len(info["storepass"]) >= 6 else None
            env = _env(info)
            if dest_pw is None:
                env["KTPY_DEST"] = "changeit"
                args += ["--dest-storepass", "env:KTPY_DEST"]
            result = ktpy(*args, env=env, code=None)
            results[(name, target)] = (out if result.exit_code == 0 else None, result.stderr, result.exit_code)
            if result.exit_code == 0:
                requests.append(Request(target, out, dest_pw or "changeit", info["keypass"]))
    views = dict(zip([r.path for r in requests], java_view(view_classes, requests), strict=True))
    return results, views


def test_every_corpus_store_has_a_pinned_outcome_for_every_type():
    assert sorted(OUTCOMES) == NAMES
    for name, outcomes in OUTCOMES.items():
        assert sorted(outcomes) == sorted(TYPES), name
        for outcome in outcomes.values():
            assert outcome == "converted" or outcome["refused"] in REFUSALS, (name, outcome)


@pytest.mark.parametrize("target", TYPES)
@pytest.mark.parametrize("name", NAMES)
def test_convert_does_what_is_pinned(name, target, conversions, corpus_views):
    """Converted: Java sees in the output what it saw in the source. Refused: exit 1 and exactly
    the pinned reason's sentence, naming the entry (fixtures/convert-outcomes.json)."""
    results, views = conversions
    out, stderr, code = results[(name, target)]
    expected = OUTCOMES[name][target]
    assert all(KTPY_LINE.match(line) for line in stderr.splitlines()), stderr
    if expected != "converted":
        assert (out, code) == (None, 1), f"pinned refused ({expected}), but: exit {code}\n{stderr}"
        assert stderr == REFUSALS[expected["refused"]].format(entry=expected.get("entry"), path=FIXTURES / name,
                                                              type=target.upper())
        if "entry" in expected:  # an entry Java sees in the source
            assert expected["entry"] in [e["alias"].lower() for e in corpus_views[name]["entries"]]
        return
    assert out is not None, f"pinned converted, but: exit {code}\n{stderr}"
    assert views[out]["ok"], views[out]
    assert normalized(views[out]) == normalized(_as_java_lists(corpus_views[name], target, CORPUS[name]["type"]))


def _as_java_lists(view: dict, target: str, source: str = "") -> dict:
    """The source's view as the target type lists it: PKCS12 lists aliases in lowercase, and
    convert lowercases Bouncy Castle's (which BKS and UBER keep as written) for any Java type."""
    if target != "pkcs12" and source not in ("bks", "uber"):
        return view
    return {"entries": [{**e, "alias": e["alias"].lower()} for e in view["entries"]]}


def test_secret_key_into_jks_is_refused_naming_the_entry(conversions):
    results, _ = conversions
    out, stderr, _ = results[("keytool-secret.jceks", "jks")]
    assert out is None
    assert re.fullmatch(r"Error: the entry '[a-z0-9-]+' is a secret key, which a JKS keystore cannot hold; "
                        r"convert to JCEKS or PKCS12 instead\n", stderr), stderr


# --- nothing on stderr but ktpy's own lines ------------------------------------------------

NEGATIVE_SERIAL = FIXTURES / "keytool-negative-serial.jks"


def system_cacerts() -> Path:
    """Debian's cacerts, else the JDK's own lib/security/cacerts (the java on PATH)."""
    import shutil

    debian = Path("/etc/ssl/certs/java/cacerts")
    if debian.is_file():
        return debian
    java = shutil.which("java")
    jdk = Path(java).resolve().parent.parent / "lib" / "security" / "cacerts" if java else None
    if jdk is None or not jdk.is_file():
        missing(f"neither {debian} nor the JDK's lib/security/cacerts is here")
    assert jdk is not None
    return jdk


@pytest.mark.parametrize("which", ["fixture", "system-cacerts"])
def test_negative_serials_quietly(which, tmp_path):
    """The system's cacerts (Debian's or the JDK's) and a fixture hold certificates with serials
    RFC 5280 forbids (zero or negative): cryptography warns about each; the warning must not
    reach the user, nor a library caller of keystore.load."""
    import warnings

    store = NEGATIVE_SERIAL if which == "fixture" else system_cacerts()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        opened = keystore.load(store.read_bytes(), "changeit")
        assert any(c.serial_number <= 0 for e in opened.entries for c in e.chain), store  # not vacuous
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        keystore.load(store.read_bytes(), "changeit")
    assert caught == []
    for args in (["inspect", str(store), "--storepass", "env:KTPY_STOREPASS", "--json"],
                 ["inspect", str(store), "--storepass", "env:KTPY_STOREPASS"],
                 ["convert", str(store), "--storepass", "env:KTPY_STOREPASS", "--to", "pkcs12",
                  "-o", str(tmp_path / "cacerts.p12"), "--force"]):
        proc = subprocess.run([sys.executable, "-m", "keytool_py", *args], capture_output=True, text=True,
                              env={"KTPY_STOREPASS": "changeit", "PATH": "/usr/bin:/bin"}, timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr
        assert all(KTPY_LINE.match(line) for line in proc.stderr.splitlines()), proc.stderr


# --- writing: every alias ktpy accepts opens in Java ---------------------------------------

WRITTEN_ALIASES = ["clé-ünïcode", "emoji-😀-key", "€" * 21845]  # the last: 65535 bytes, Java's maximum


def test_every_alias_ktpy_writes_opens_in_java(view_classes, client, tmp_path):
    from keytool_py.certs import to_pem
    from keytool_py.keys import private_key_to_pem

    (tmp_path / "k.pem").write_bytes(private_key_to_pem(client.key))
    (tmp_path / "c.pem").write_bytes(to_pem(client.chain))
    requests, expected = [], []
    for n, alias in enumerate(WRITTEN_ALIASES):
        result = ktpy("build-keystore", "--type", ",".join(TYPES), "--key", str(tmp_path / "k.pem"),
                      "--cert", str(tmp_path / "c.pem"), "--alias", alias, "--storepass", "env:PW",
                      "-o", str(tmp_path / f"store{n}"), env={"PW": "changeit"}, code=None)
        assert result.exit_code == 0, result.output
        for target, suffix in zip(TYPES, (".jks", ".jceks", ".p12"), strict=True):
            requests.append(Request(target, tmp_path / f"store{n}{suffix}", "changeit", None, (alias.upper(),)))
            expected.append(alias.lower())
    for request, view, alias in zip(requests, java_view(view_classes, requests), expected, strict=True):
        assert view["ok"], (request, view)
        assert [(e["alias"], e["kind"], e.get("key_algorithm")) for e in view["entries"]] == \
            [(alias, "PrivateKeyEntry", "RSA")], request
        assert view["lookups"][alias.upper()] == view["entries"][0]["chain"][0]  # found by any case


# --- two aliases equal but for case: ktpy picks the entry Java picks -----------------------

CASE_STORES = ["case-alias.jks", "case-alias.jceks", "pyca-case-alias.p12"]
LOOKUPS = ("twin-a", "TWIN-A", "Twin-A")


def test_same_entry_as_java_for_aliases_equal_but_for_case(view_classes):
    requests = [Request(CORPUS[n]["type"], FIXTURES / n, CORPUS[n]["storepass"], None, LOOKUPS)
                for n in CASE_STORES]
    for name, view in zip(CASE_STORES, java_view(view_classes, requests), strict=True):
        for lookup in LOOKUPS:
            result = ktpy("export-pem", str(FIXTURES / name), "--storepass", "env:PW", "--alias", lookup,
                          env={"PW": CORPUS[name]["storepass"]}, code=None)
            assert result.exit_code == 0, result.output
            from keytool_py.certs import fingerprint, load_certificates

            ours = fingerprint(load_certificates(result.stdout.encode())[0])
            assert ours == view["lookups"][lookup], (name, lookup)


def test_unlinked_chain_into_pkcs12_is_refused_naming_the_entry(conversions):
    results, _ = conversions
    out, stderr, _ = results[("api-unlinked.jks", "pkcs12")]
    assert out is None
    assert stderr == ("Error: the chain of entry 'api-client' is not linked by issuer, and Java rebuilds PKCS12 "
                      "chains by issuer: it would read 1 of its 2 certificates; keep it in JKS or JCEKS, or fix "
                      "the chain\n")


# --- untouched entries keep their own protection -------------------------------------------

CARRIED = ["keytool-keypass.jks", "keytool-keypass.jceks", "keytool-secret-keypass.jceks", "api-keypass.p12",
           "keytool-secret.p12", "keytool-algs.jks"]


def test_rewrite_in_the_same_type_carries_keys_it_did_not_decrypt(view_classes, corpus_views, tmp_path):
    """Read with the store password only (no key decrypted), rewritten under a new store password:
    Java opens every key with its own old password, and sees what it saw."""
    requests = []
    for name in CARRIED:
        info = CORPUS[name]
        store = keystore.load((FIXTURES / name).read_bytes(), info["storepass"], decrypt_keys=False)
        assert all(e.key is None and e.secret is None for e in store.entries)
        out = tmp_path / name
        out.write_bytes(keystore.build_store(store.type, store.entries, storepass="new-store-pass"))
        requests.append(Request(info["type"], out, "new-store-pass", info["keypass"] or info["storepass"]))
    for name, view in zip(CARRIED, java_view(view_classes, requests), strict=True):
        assert view["ok"], view
        assert not any("key_error" in e for e in view["entries"]), view
        assert normalized(view) == normalized(corpus_views[name]), name


def test_convert_without_keypass_carries_keys_into_their_own_type(view_classes, corpus_views, tmp_path):
    """No --keypass: a key the store password does not open is kept under its own password in a
    store of its own type, and refused by name for another type."""
    env = {"KTPY_STOREPASS": "changeit"}
    same = ktpy("convert", str(FIXTURES / "keytool-keypass.jks"), "--to", "jks",
                "--storepass", "env:KTPY_STOREPASS", "-o", str(tmp_path / "same.jks"), env=env, code=None)
    assert same.exit_code == 0, same.output
    assert same.stderr.endswith(": distinct (key, kept under its own password)\n")
    other = ktpy("convert", str(FIXTURES / "keytool-keypass.jks"), "--to", "pkcs12",
                 "--storepass", "env:KTPY_STOREPASS", "-o", str(tmp_path / "o.p12"), env=env, code=None)
    assert other.exit_code == 1
    assert other.stderr == "Error: the key of entry 'distinct' was not decrypted; give its key password (--keypass)\n"
    (view,) = java_view(view_classes, [Request("jks", tmp_path / "same.jks", "changeit", "keypass1")])
    assert normalized(view) == normalized(corpus_views["keytool-keypass.jks"])


@pytest.mark.parametrize("name", ["keytool-algs.jks", "keytool-algs.jceks", "keytool-algs.p12"])
def test_keytool_dsa_certificate_read_and_kept_byte_for_byte(name):
    """keytool 17 signs DSA certificates with NULL parameters in dsa_with_SHA256, which
    cryptography refuses: ktpy reads them through a repaired copy and keeps the original bytes
    (the differential test checks their fingerprints against Java's); the signature still verifies."""
    from keytool_py import certs
    from keytool_py.keystore.certificate import KeptCertificate

    store = keystore.load((FIXTURES / name).read_bytes(), "changeit", decrypt_keys=False)
    cert = store.entry("dsa-key").chain[0]
    assert isinstance(cert, KeptCertificate)
    assert b"\x06\x09\x60\x86\x48\x01\x65\x03\x04\x03\x02\x05\x00" in certs.to_der(cert)  # the NULL kept
    assert certs.issued_by(cert, cert)
