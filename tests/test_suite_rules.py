"""The suite's own rules, checked from its source and by running the harness: one runner for Java
and keytool (English whatever JAVA_TOOL_OPTIONS says), one parser of `keytool -list -v` that never
passes an empty or foreign listing off as a store without entries, one CLI helper, no test module
importing another, and planted faults that still apply to the code."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest
from helpers import STOREPASS, require_tool
from interop import Listed, describe, parse_keytool_list, run_keytool, run_keytool_list

TESTS = Path(__file__).resolve().parent
TEST_MODULES = sorted(TESTS.glob("test_*.py"))
SUPPORT = {p.stem for p in TESTS.glob("*.py") if not p.name.startswith("test_")} - {"conftest"}


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", TEST_MODULES + sorted(TESTS.glob("[!t]*.py")), ids=lambda p: p.name)
def test_no_module_imports_a_test_module_or_conftest(path):
    local = {p.stem for p in TESTS.glob("*.py")}
    imported = _imports(path) & local
    assert imported <= SUPPORT, f"{path.name} imports {sorted(imported - SUPPORT)}: share through a support module"


def test_java_keytool_and_the_cli_are_run_one_way():
    """Java and keytool start only through interop.run_java/run_keytool (English forced); ktpy runs
    in-process only through helpers.ktpy."""
    for path in TEST_MODULES:
        if path.name == Path(__file__).name:
            continue
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"""\[\s*["'](java|javac|keytool)["']""", text), f"{path.name} starts Java itself"
        assert "CliRunner(" not in text, f"{path.name} makes its own CliRunner: use helpers.ktpy"


def test_test_names_and_comments_name_behaviour_not_tracker_numbers():
    for path in [*TEST_MODULES, *TESTS.glob("[!t]*.py")]:
        found = re.search(r"\b(?:[Ii]ssue|tracker) #?\d+", path.read_text(encoding="utf-8"))
        assert found is None, f"{path.name}: {found[0]}"


# --- the parser ---

GERMAN = """Keystore-Typ: PKCS12
Keystore-Provider: SUN

Keystore enthält 1 Eintrag

Aliasname: k
Eintragstyp: SecretKeyEntry
"""


def test_the_parser_refuses_a_listing_in_another_language():
    with pytest.raises(AssertionError, match="not an English keytool -list -v listing"):
        parse_keytool_list(GERMAN)


def test_the_parser_refuses_an_empty_listing_where_entries_were_expected():
    empty = "Keystore type: PKCS12\nKeystore provider: SUN\n\nYour keystore contains 0 entries\n\n"
    with pytest.raises(AssertionError, match="no entry where entries were expected"):
        parse_keytool_list(empty)
    assert parse_keytool_list(empty, expect_entries=False) == []


def test_the_parser_refuses_a_count_it_cannot_match():
    listing = "Your keystore contains 2 entries\n\nAlias name: a\nEntry type: trustedCertEntry\n"
    with pytest.raises(AssertionError, match="keytool says 2 entries, 1 parsed"):
        parse_keytool_list(listing)


@pytest.mark.interop
def test_keytool_speaks_english_whatever_java_tool_options_say(monkeypatch, tmp_path, client):
    """JAVA_TOOL_OPTIONS asks every JVM for German; the runner's own -J-Duser.language=en wins."""
    require_tool("keytool")
    from keytool_py import build_keystore
    from keytool_py.certs import fingerprint

    path = tmp_path / "k.p12"
    path.write_bytes(build_keystore("pkcs12", client.key, client.chain, alias="mule", storepass=STOREPASS))
    monkeypatch.setenv("JAVA_TOOL_OPTIONS", "-Duser.language=de -Duser.country=DE")
    german = run_keytool("-J-Duser.language=de", "-list", "-keystore", path, "-storepass", STOREPASS)
    assert "Keystore enthält 1 Eintrag" in german.stdout, describe(german)  # the setting is real
    listed = parse_keytool_list(run_keytool_list(path, "pkcs12", STOREPASS))
    assert listed == [Listed("mule", "PrivateKeyEntry", tuple(fingerprint(c) for c in client.chain))]


# --- the planted faults ---

def test_every_planted_fault_still_applies():
    """Each mutant of tests/mutants/catalogue.py finds its snippet exactly once in keytool_py/ (code
    that moved is found where it went); `make mutants` then requires its tests to fail."""
    sys.path.insert(0, str(TESTS / "mutants"))
    try:
        from catalogue import MUTANTS
        from run import ROOT, locate
    finally:
        sys.path.remove(str(TESTS / "mutants"))
    assert len(MUTANTS) >= 12 and len({m.name for m in MUTANTS}) == len(MUTANTS)
    for mutant in MUTANTS:
        locate(ROOT, mutant)
        for test in mutant.tests:
            assert (ROOT / test.split("::")[0]).is_file(), (mutant.name, test)


def test_the_readme_counts_the_planted_faults():
    sys.path.insert(0, str(TESTS / "mutants"))
    try:
        from catalogue import MUTANTS
    finally:
        sys.path.remove(str(TESTS / "mutants"))
    readme = (TESTS.parent / "README.md").read_text(encoding="utf-8")
    assert f"`make mutants` plants {len(MUTANTS)} faults" in readme
    assert f"All {len(MUTANTS)} are killed." in readme
