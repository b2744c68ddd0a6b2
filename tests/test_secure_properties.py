"""Mule secure properties: MuleSoft's published vectors, every algorithm x mode, random IVs,
.yaml/.properties files and file-level encryption, the CLI; and an independent decryption by a
Java program using javax.crypto as Mule's module does (tests/java/SecureProps.java, one JVM for
every case)."""

from __future__ import annotations

import base64
import functools
import os
import stat
from pathlib import Path

import pytest
from helpers import ktpy, require_tool
from interop import describe, run_java

from keytool_py import BadInputError
from keytool_py import secure_properties as sp
from keytool_py.secure_properties import Settings

JAVA_SOURCE = Path(__file__).parent / "java" / "SecureProps.java"
# A key of the longest length each cipher takes (AES-256), and a short one where lengths vary.
KEYS = {"AES": "0123456789abcdef0123456789abcdef", "Blowfish": "mulesoft", "DES": "8bytekey",
        "DESede": "twenty-four-byte-key-3de"}
COMBOS = [(a, m) for a in sp.ALGORITHMS for m in sp.MODES]
VALUE = "p@ss wörd: 15 bytes+"  # not a whole block, non-ASCII

YAML = """\
# Secure properties for the Mule app (a comment that must stay)
keystore:
  password: "changeit: with colon"   # the store password
  keyPassword: plain-value
  path: keystore.jks
  empty:
salesforce:
  - 'single ''quoted'''
  - name: sfdc
already: "ALREADY"
"""
# a value already encrypted under the AES key with the default settings
ALREADY = sp.encrypt_value("kept as it is", KEYS["AES"], Settings())
YAML = YAML.replace("ALREADY", ALREADY)
YAML_TO_DECRYPT = YAML.split("already:")[0]  # without the ![...] that holds ciphertext under one key only
PROPERTIES = """\
# a comment
! another comment
keystore.password=changeit
keystore.keyPassword : key\\
    password
spaced   value with spaces
unicode=\\u00e9t\\u00e9
"""
PLAIN_PROPERTIES = {"keystore.password": "changeit", "keystore.keyPassword": "keypassword",
                    "spaced": "value with spaces", "unicode": "été"}
PLAIN_YAML = {"password": "changeit: with colon", "keyPassword": "plain-value", "path": "keystore.jks",
              "name": "sfdc"}


cli_run = functools.partial(ktpy, "secure-props", code=None)


# --- published vectors (MuleSoft's docs and Secure Properties Tool examples) ---

@pytest.mark.parametrize("settings, key, value, expected", [
    (Settings("AES", "CBC", False), "MyEncryptionKey1", "bb458e566cba4e2ea5a826d27b46031a",
     "smzbg+aV2HbiC9Fv8KBsZpD5PlXiplsfhZ42RWNEbHhUeZ9ZIDftljUx6sYpuQ+b"),
    (Settings("Blowfish", "CBC", False), "mulesoft", "some value to encrypt", "8q5e1+jy0cND2iV2WPThahmz6XsDwB6Z"),
    (Settings("Blowfish", "CBC", False), "mulesoft", "Muleman is here", "qCReIPK3jcqD7WR84ISSIQ=="),
    (Settings("Blowfish", "CBC", False), "mulesoft", "Max the mule", "En8lII21ZHrdIaINw0+mSA=="),
], ids=["aes", "blowfish-1", "blowfish-2", "blowfish-3"])
def test_published_vectors(settings, key, value, expected):
    assert sp.encrypt_value(value, key, settings) == f"![{expected}]"
    assert sp.decrypt_value(f"![{expected}]", key, settings) == value.encode()
    assert sp.decrypt_value(expected, key, settings) == value.encode()  # bare Base64 too


def test_published_vector_through_the_cli():
    result = cli_run("decrypt", "--key", "env:K", "--algorithm", "Blowfish", "--no-random-iv",
                     "![8q5e1+jy0cND2iV2WPThahmz6XsDwB6Z]", env={"K": "mulesoft"})
    assert result.exit_code == 0, result.output
    assert result.stdout == "some value to encrypt\n"
    assert result.stderr == ""


@pytest.mark.parametrize("algorithm, mode", COMBOS)
def test_every_algorithm_and_mode_round_trips(algorithm, mode):
    key = KEYS[algorithm]
    for random_iv in (True, False):
        settings = Settings(algorithm, mode, random_iv)
        text = sp.encrypt_value(VALUE, key, settings)
        assert text.startswith("![") and text.endswith("]") and "\n" not in text
        assert sp.decrypt_value(text, key, settings) == VALUE.encode()
        raw = base64.b64decode(text[2:-1])
        block = sp.ALGORITHMS[algorithm]
        # padded to whole blocks, always (PKCS5Padding also in CFB/OFB), plus the IV when random
        body = len(VALUE.encode()) // block * block + block
        assert len(raw) == body + (block if random_iv and mode != "ECB" else 0)


def test_random_ivs_make_equal_values_differ_and_fixed_ivs_do_not():
    key, random_settings, fixed = KEYS["AES"], Settings(), Settings(random_iv=False)
    first, second = (sp.encrypt_value("same", key, random_settings) for _ in range(2))
    assert first != second
    assert sp.decrypt_value(first, key, random_settings) == sp.decrypt_value(second, key, random_settings) == b"same"
    assert sp.encrypt_value("same", key, fixed) == sp.encrypt_value("same", key, fixed)
    # the random IV is the first block
    iv = bytes(range(16))
    assert base64.b64decode(sp.encrypt_value("same", key, random_settings, iv=iv)[2:-1])[:16] == iv


def test_defaults_for_what_ktpy_creates():
    settings = Settings()
    assert (settings.algorithm, settings.mode, settings.random_iv) == ("AES", "CBC", True)
    assert len(sp.generate_key()) == 32  # AES-256
    assert {a: len(sp.generate_key(a)) for a in sp.ALGORITHMS} == {"AES": 32, "Blowfish": 56, "DES": 8,
                                                                    "DESede": 24}
    assert sp.warnings(settings) == []
    assert sp.warnings(Settings("DES", "ECB")) == [
        "ECB mode uses no IV and encrypts equal blocks to equal ciphertext; prefer CBC",
        "DES has a 56-bit key, which can be found by exhaustive search; prefer AES"]


@pytest.mark.parametrize("algorithm, key, message", [
    ("AES", "short", "an AES key must be 16, 24 or 32 characters long, not 5"),
    ("DESede", "0123456789abcdef", "a DESede key must be 24 characters long, not 16"),
    ("Blowfish", "x" * 57, "a Blowfish key must be 1 to 56 characters long, not 57"),
])
def test_key_lengths(algorithm, key, message):
    with pytest.raises(BadInputError, match=f"^{message}$"):
        sp.encrypt_value("x", key, Settings(algorithm))


def test_wrong_key_is_a_clear_error():
    text = sp.encrypt_value("secret value", KEYS["AES"], Settings())
    with pytest.raises(BadInputError) as info:
        sp.decrypt_value(text, "another-key-of-32-characters-xxx", Settings())
    assert str(info.value) == (
        "cannot decrypt with this key as AES/CBC/PKCS5Padding with random IVs: the padding is wrong "
        "(a different key, algorithm, mode or --random-iv setting?)")


# --- files ---

def _lines_without_values(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.lstrip().startswith(("#", "!")) or not line.strip()]


def test_yaml_file_encrypts_every_value_and_keeps_comments():
    key, settings = KEYS["AES"], Settings()
    encrypted, count = sp.encrypt_file(YAML.encode(), "yaml", key, settings)
    text = encrypted.decode()
    assert count == 5  # the ![...] value already encrypted is left alone
    lines = text.splitlines()
    assert lines[0] == "# Secure properties for the Mule app (a comment that must stay)"
    assert lines[1] == "keystore:" and lines[5] == "  empty:" and lines[6] == "salesforce:"
    assert lines[2].startswith('  password: "![') and lines[2].endswith(']"   # the store password')
    assert lines[7].startswith('  - "![') and lines[8].startswith('  - name: "![')
    assert lines[9] == f'already: "{ALREADY}"'
    values = {}
    for line in lines:
        name, _, rest = line.strip().lstrip("- ").partition(": ")
        if rest.startswith('"!['):
            values[name] = rest.split('"')[1]
    decrypted = {n: sp.decrypt_value(v, key, settings).decode() for n, v in values.items() if n != "already"}
    assert decrypted == {**PLAIN_YAML}
    plain, count = sp.decrypt_file(encrypted, "yaml", key, settings)
    assert count == 6
    assert plain.decode() == YAML.replace("'single ''quoted'''", "\"single 'quoted'\"").replace(
        f'"{ALREADY}"', 'kept as it is')


def test_a_value_that_only_looks_encrypted_is_refused_naming_the_key():
    fake = 'a: plain\nb: "![c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0]"\n'
    with pytest.raises(BadInputError) as info:
        sp.encrypt_file(fake.encode(), "yaml", KEYS["AES"], Settings(), key_name="the key --key env:K")
    assert str(info.value) == (
        "line 2: a value written as ![...] is not encrypted with the key --key env:K (AES/CBC/PKCS5Padding, "
        "random IVs); decrypt it with the key it was encrypted with first, or remove the ![ and ] to have it "
        "encrypted as text")
    other = sp.encrypt_value("s", KEYS["AES"].upper(), Settings())  # ciphertext, but under another key
    with pytest.raises(BadInputError, match="^line 1: a value written as"):
        sp.encrypt_file(f'x: "{other}"\n'.encode(), "yaml", KEYS["AES"], Settings())


def test_properties_file_encrypts_every_value_and_keeps_comments():
    key, settings = KEYS["AES"], Settings()
    encrypted, count = sp.encrypt_file(PROPERTIES.encode(), "properties", key, settings)
    text = encrypted.decode()
    assert count == 4
    assert _lines_without_values(text) == ["# a comment", "! another comment"]
    lines = text.splitlines()
    assert [line.split("![")[0] for line in lines[2:]] == ["keystore.password=", "keystore.keyPassword : ",
                                                           "spaced   ", "unicode="]
    plain, count = sp.decrypt_file(encrypted, "properties", key, settings)
    assert count == 4
    assert plain.decode() == ("# a comment\n! another comment\nkeystore.password=changeit\n"
                              "keystore.keyPassword : keypassword\nspaced   value with spaces\n"
                              "unicode=\\u00e9t\\u00e9\n")


def test_file_level_is_one_base64_line_without_newline():
    key, settings = KEYS["AES"], Settings()
    encrypted = sp.encrypt_file_level(YAML.encode(), key, settings)
    assert b"\n" not in encrypted and base64.b64decode(encrypted, validate=True)
    assert sp.decrypt_file_level(encrypted, key, settings) == YAML.encode()


@pytest.mark.parametrize("line, message", [
    ("key: |\n  text\n", "line 1: block scalars (| or >) are not supported; write the value on one line"),
    ("key: [a, b]\n", "line 1: flow collections ({ or [) are not supported; use block style"),
    ('a: 1\nkey: "open\n', "line 2: a double-quoted value must end on the same line"),
    ("key: &anchor x\n", "line 1: anchors, aliases and tags are not supported"),
])
def test_yaml_it_cannot_read_is_refused(line, message):
    with pytest.raises(BadInputError) as info:
        sp.encrypt_file(line.encode(), "yaml", KEYS["AES"], Settings())
    assert str(info.value) == message


def test_a_bad_value_names_its_line():
    with pytest.raises(BadInputError) as info:
        sp.decrypt_file(b"# c\na=![not base64!]\n", "properties", KEYS["AES"], Settings())
    assert str(info.value) == "line 2: the encrypted value is not Base64 (expected ![...] as Mule writes it)"


# --- CLI ---

def test_cli_generates_an_aes256_key_and_round_trips(tmp_path):
    key_file = tmp_path / "secure.key"
    result = cli_run("encrypt", "--key", f"generate:{key_file}", "s3cret")
    assert result.exit_code == 0, result.output
    assert result.stderr == ("Warning: a VALUE on the command line shows in the process list and shell history; "
                             f"pass - to read it from stdin\nWrote the new key to {key_file} (mode 0600)\n")
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    key = key_file.read_text().rstrip("\n")
    assert len(key) == 32
    text = result.stdout.strip()
    assert sp.decrypt_value(text, key, Settings()) == b"s3cret"
    back = cli_run("decrypt", "--key", f"file:{key_file}", text)
    assert (back.exit_code, back.stdout) == (0, "s3cret\n")


def test_cli_value_from_stdin(tmp_path):
    result = cli_run("encrypt", "--key", "env:K", "-", input="from stdin\n", env={"K": KEYS["AES"]})
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert sp.decrypt_value(result.stdout.strip(), KEYS["AES"], Settings()) == b"from stdin"


def test_cli_warns_on_ecb_and_des():
    result = cli_run("encrypt", "--key", "env:K", "--algorithm", "des", "--mode", "ecb", "-", input="x",
                     env={"K": "8bytekey"})
    assert result.exit_code == 0, result.output
    assert result.stderr == ("Warning: ECB mode uses no IV and encrypts equal blocks to equal ciphertext; prefer CBC\n"
                             "Warning: DES has a 56-bit key, which can be found by exhaustive search; prefer AES\n")
    assert sp.decrypt_value(result.stdout.strip(), "8bytekey", Settings("DES", "ECB")) == b"x"


def test_cli_files(tmp_path):
    plain = tmp_path / "app.yaml"
    plain.write_text(YAML_TO_DECRYPT)
    out = tmp_path / "secure.yaml"
    env = {"K": KEYS["AES"]}
    result = cli_run("encrypt", "--key", "env:K", "--in", plain, "--out", out, env=env)
    assert result.exit_code == 0, result.output
    assert result.stderr == (f"Encrypted 5 value(s) of {plain} into {out} (AES/CBC/PKCS5Padding, random IVs)\n"
                             'Mule: <secure-properties:encrypt algorithm="AES" mode="CBC" useRandomIVs="true"/>\n')
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o644
    again = cli_run("encrypt", "--key", "env:K", "--in", plain, "--out", out, env=env)
    assert again.exit_code == 1
    assert again.stderr == f"Error: {out} already exists; pass --force to replace it\n"
    back = tmp_path / "back.yaml"
    result = cli_run("decrypt", "--key", "env:K", "--in", out, "--out", back, env=env)
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(os.stat(back).st_mode) == 0o600  # it holds the secrets
    assert "password: \"changeit: with colon\"   # the store password" in back.read_text()
    level = tmp_path / "level.yaml"
    result = cli_run("encrypt", "--key", "env:K", "--in", plain, "--out", level, "--file-level", env=env)
    assert result.exit_code == 0, result.output
    assert not level.read_bytes().endswith(b"\n")
    assert sp.decrypt_file_level(level.read_bytes(), KEYS["AES"], Settings()) == YAML_TO_DECRYPT.encode()


@pytest.mark.parametrize("args, message", [
    (["x", "--in", "a.yaml", "--out", "b.yaml"], "give either VALUE or --in FILE, not both"),
    ([], "give a VALUE to encrypt or decrypt, or --in FILE --out FILE"),
    (["--in", "a.yaml"], "--in needs --out (the file to write)"),
    (["x", "--file-level"], "--file-level goes with --in"),
])
def test_cli_usage_errors(args, message):
    result = cli_run("encrypt", "--key", "env:K", *args, env={"K": KEYS["AES"]})
    assert result.exit_code == 2
    assert result.stderr.endswith(f"Error: {message}\n")


def test_cli_decrypt_refuses_a_generated_key(tmp_path):
    result = cli_run("decrypt", "--key", f"generate:{tmp_path / 'k'}", "![abc=]")
    assert result.exit_code == 2
    assert result.stderr.endswith("Error: --key generate: makes a new key, which cannot decrypt anything; "
                                  "pass the key the values were encrypted with\n")
    assert not (tmp_path / "k").exists()


def test_cli_wrong_key():
    # A fixed IV: with a random one, about 1 wrong key in 256 leaves valid padding by chance and the
    # message would be about the decrypted bytes instead (the test would fail once in a while).
    text = sp.encrypt_value("secret", KEYS["AES"], Settings(), iv=bytes(range(16)))
    result = cli_run("decrypt", "--key", "env:K", text, env={"K": "another-key-of-32-characters-xxx"})
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == ("Error: cannot decrypt with this key as AES/CBC/PKCS5Padding with random IVs: the "
                             "padding is wrong (a different key, algorithm, mode or --random-iv setting?)\n")


# --- Java: javax.crypto decrypts what ktpy wrote, and ktpy decrypts what Java wrote ---

@pytest.fixture(scope="module")
def java_check(tmp_path_factory):
    """Runs every case below in one JVM; {case id: the program's output line}."""
    require_tool("java")
    folder = tmp_path_factory.mktemp("secure-props")
    cases: dict[str, list[str]] = {}
    expected: dict[str, str] = {}
    b64 = base64.b64encode(VALUE.encode()).decode()
    for algorithm, mode in COMBOS:
        for random_iv in (True, False):
            settings = Settings(algorithm, mode, random_iv)
            head = [algorithm, mode, str(random_iv).lower(), KEYS[algorithm]]
            cid = f"{algorithm}-{mode}-{random_iv}"
            cases[f"D-{cid}"] = ["D", *head, sp.encrypt_value(VALUE, KEYS[algorithm], settings)[2:-1]]
            expected[f"D-{cid}"] = b64
            cases[f"E-{cid}"] = ["E", *head, b64]
    # AES-128 and AES-192 keys, and Blowfish keys Java takes but OpenSSL does not (under 4 bytes)
    for key, algorithm in (("sixteen-byte-key", "AES"), ("twenty-four-byte-key-aes", "AES"), ("a", "Blowfish"),
                           ("abc", "Blowfish")):
        settings = Settings(algorithm, "CBC", False)
        cases[f"D-{algorithm}-{len(key)}"] = ["D", algorithm, "CBC", "false", key,
                                              sp.encrypt_value(VALUE, key, settings)[2:-1]]
        expected[f"D-{algorithm}-{len(key)}"] = b64
    settings = Settings()
    head = ["AES", "CBC", "true", KEYS["AES"]]
    for kind, text in (("properties", PROPERTIES), ("yaml", YAML_TO_DECRYPT)):
        path = folder / f"secure.{kind}"
        path.write_bytes(sp.encrypt_file(text.encode(), kind, KEYS["AES"], settings)[0])
        cases[f"file-{kind}"] = ["P" if kind == "properties" else "Y", *head, str(path)]
    level = folder / "level.yaml"
    level.write_bytes(sp.encrypt_file_level(YAML.encode(), KEYS["AES"], settings))
    cases["file-level"] = ["F", *head, str(level)]
    listing = folder / "cases.tsv"
    listing.write_text("".join("\t".join(fields) + "\n" for fields in cases.values()))
    proc = run_java(JAVA_SOURCE, listing, timeout=120)
    assert proc.returncode == 0, describe(proc)
    outputs = proc.stdout.splitlines()
    assert len(outputs) == len(cases), describe(proc)
    return dict(zip(cases, outputs, strict=True)), expected


@pytest.mark.interop
@pytest.mark.parametrize("algorithm, mode", COMBOS)
def test_java_decrypts_what_ktpy_encrypts_and_back(java_check, algorithm, mode):
    results, expected = java_check
    for random_iv in (True, False):
        cid = f"{algorithm}-{mode}-{random_iv}"
        assert results[f"D-{cid}"] == expected[f"D-{cid}"]
        from_java = results[f"E-{cid}"]
        assert not from_java.startswith("ERROR"), from_java
        settings = Settings(algorithm, mode, random_iv)
        assert sp.decrypt_value(from_java, KEYS[algorithm], settings) == VALUE.encode()


@pytest.mark.interop
def test_java_takes_every_key_length(java_check):
    results, expected = java_check
    for cid in ("D-AES-16", "D-AES-24", "D-Blowfish-1", "D-Blowfish-3"):
        assert results[cid] == expected[cid], cid


@pytest.mark.interop
@pytest.mark.parametrize("kind, plain", [("properties", PLAIN_PROPERTIES), ("yaml", PLAIN_YAML)])
def test_java_decrypts_the_files(java_check, kind, plain):
    results, _ = java_check
    got = dict(item.split("=", 1) for item in results[f"file-{kind}"].split(" "))
    assert {name: base64.b64decode(v).decode() for name, v in got.items()} == plain


@pytest.mark.interop
def test_java_decrypts_the_file_level_file(java_check):
    results, _ = java_check
    assert base64.b64decode(results["file-level"]) == YAML.encode()


@pytest.mark.parametrize("args, setup, message", [
    (["decrypt", "--key", "env:K", "--in", "{tmp}/missing.yaml", "--out", "{tmp}/out.yaml"], None,
     "Error: input file {tmp}/missing.yaml does not exist\n"),
    (["encrypt", "--key", "env:K", "--in", "{tmp}/app.txt", "--out", "{tmp}/out.txt"], b"a: b\n",
     "Error: {tmp}/app.txt is neither .yaml nor .properties; Mule's secure properties come in those two\n"),
    (["encrypt", "--key", "env:K", "--in", "{tmp}/app.yaml", "--out", "{tmp}/out.yaml"], b"a: \xff\n",
     "Error: the yaml file is not UTF-8 text\n"),
    (["decrypt", "--key", "env:K", "--in", "{tmp}/app.yaml", "--out", "{tmp}/out.yaml", "--file-level"],
     b"not base64 at all!\n", "Error: the file is not one Base64 line, as file-level encryption writes it\n"),
    (["decrypt", "--key", "env:K", "![%%%]"], None,
     "Error: the encrypted value is not Base64 (expected ![...] as Mule writes it)\n"),
])
def test_cli_bad_input_is_one_clear_error_and_writes_nothing(tmp_path, args, setup, message):
    if setup is not None:
        name = next(a for a in args if a.startswith("{tmp}/app")).replace("{tmp}/", "")
        (tmp_path / name).write_bytes(setup)
    before = sorted(p.name for p in tmp_path.iterdir())
    result = cli_run(*[a.replace("{tmp}", str(tmp_path)) for a in args], env={"K": KEYS["AES"]})
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.stderr == message.replace("{tmp}", str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == before
