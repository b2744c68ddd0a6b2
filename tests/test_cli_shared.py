"""What the commands share: one parser per kind of input, shared options, one
exit-code table, the CA folder read and written by ca.py, verify's renderers in verify.py."""

from __future__ import annotations

import click
import pytest
from click.shell_completion import CompletionItem
from helpers import NOW

from keytool_py import KeyType, create_ca
from keytool_py.ca import CA
from keytool_py.cli.app import COMMAND_MODULES, EXIT_CODES, ExitCode, cli, exit_codes_help
from keytool_py.cli.options import PASSWORD_SOURCE, SECRET_HELP, StoreTypes
from keytool_py.errors import WrongPasswordError
from keytool_py.keystore import StoreType
from keytool_py.verify import as_json, text_lines, verify


def _commands():
    """(name, command) of every command, the subcommands of a group included."""
    ctx = click.Context(cli)
    for name in sorted(COMMAND_MODULES):
        command = cli.get_command(ctx, name)
        if isinstance(command, click.Group):
            yield from ((f"{name} {sub}", command.commands[sub]) for sub in sorted(command.commands))
        else:
            yield name, command


def test_every_password_option_is_one_kind_of_input():
    """Every option taking SRC is a PasswordSource whose help ends with the forms, in every command."""
    seen = 0
    for name, command in _commands():
        for param in command.params:
            if getattr(param, "metavar", None) == "SRC" or param.type is PASSWORD_SOURCE:
                assert param.type is PASSWORD_SOURCE, (name, param.opts)
                assert param.metavar == "SRC", (name, param.opts)
                assert param.help.endswith(SECRET_HELP), (name, param.opts)
                seen += 1
    assert seen >= 30  # ten --storepass and their kin


def test_every_store_type_list_is_one_parser():
    found = {(name, p.opts[0]) for name, c in _commands() for p in c.params if isinstance(p.type, StoreTypes)}
    assert found == {("build-keystore", "--type"), ("kit", "--types"), ("issue-client", "--types"),
                     ("renew", "--types")}


def test_store_types_parse_in_order_without_duplicates_and_complete():
    param_type = StoreTypes()
    assert param_type.convert("jks, P12,jks,jceks", None, None) == (StoreType.JKS, StoreType.PKCS12,
                                                                    StoreType.JCEKS)
    with pytest.raises(click.BadParameter, match="^unknown keystore type 'bcfks'; choose one of jks, pkcs12, jceks$"):
        param_type.convert("jks,bcfks", None, None)
    with pytest.raises(click.BadParameter, match="^give at least one keystore type: jks, pkcs12 or jceks$"):
        param_type.convert(" , ", None, None)
    worded = StoreTypes("{item!r} is not one I know")
    with pytest.raises(click.BadParameter, match="^'bcfks' is not one I know$"):
        worded.convert("jks,bcfks", None, None)
    assert [i.value for i in param_type.shell_complete(None, None, "pkcs12,j")] == ["pkcs12,jks", "pkcs12,jceks"]


def test_password_sources_complete_their_forms():
    assert [i.value for i in PASSWORD_SOURCE.shell_complete(None, None, "")] == [
        "pass:", "env:", "file:", "prompt", "generate:"]
    completed = PASSWORD_SOURCE.shell_complete(None, None, "p")
    assert all(isinstance(i, CompletionItem) for i in completed)
    assert [i.value for i in completed] == ["pass:", "prompt"]


def test_exit_code_table_writes_the_help():
    assert [int(c) for c in ExitCode] == [0, 1, 2, 3]
    assert EXIT_CODES == ("\n\b\nEXIT CODES\n  0  success\n  1  error (the message says what failed and why)\n"
                          "  2  usage error (a missing or unknown option, no password source)\n")
    assert exit_codes_help({ExitCode.PROBLEMS: "found\nmore"}).endswith(
        "  2  usage error (a missing or unknown option, no password source)\n  3  found\n     more\n")


def test_ca_from_files_reads_what_files_writes(key_pool, now):
    root = create_ca("CN=Files Root", key=key_pool(KeyType.EC_P256, 3), now=now)
    middle = create_ca("CN=Files Middle", key=key_pool(KeyType.EC_P256, 4), parent=root, now=now)
    asked = []

    def password():
        asked.append(1)
        return "pw-123456"

    for made, secret in ((root, None), (middle, "pw-123456")):
        contents = made.files(secret)
        loaded = CA.from_files(lambda name, what, c=contents: c.get(name), password, folder="x", now=now)
        assert (loaded.cert, loaded.chain) == (made.cert, made.chain)
    assert asked == [1]  # asked only for the encrypted key
    with pytest.raises(WrongPasswordError):
        CA.from_files(lambda name, what: middle.files("pw-123456").get(name), lambda: "wrong-pw", now=now)


def test_verify_renders_its_own_report(clients, ca, now):
    report = verify(clients[KeyType.RSA2048].cert, roots=[ca.cert], now=now)
    assert as_json(report) == {"format": 1, "ok": True, "profile": report.profile.value,
                               "chain": [c.subject.rfc4514_string() for c in report.chain],
                               "problems": [], "warnings": []}
    assert text_lines(report)[-1] == "OK: every check holds"


def test_batch_jobs_and_books_live_in_batch():
    from keytool_py.batch import Plan, Row, Tally, jobs

    rows = [Row(2, "CN=a", "a", alias="a"), Row(3, "CN=b", "b", alias="b")]
    shared = jobs(rows, "store-pass-1")
    assert [(j.line, j.storepass, j.own_password) for j in shared] == [(2, "store-pass-1", False),
                                                                       (3, "store-pass-1", False)]
    own = jobs(rows, None)
    assert all(j.own_password and len(j.storepass) == 24 for j in own) and own[0].storepass != own[1].storepass
    tally = Tally(Plan(todo=tuple(rows), skipped=1, failed={}), rows=3)
    assert tally.verdict() is None
    tally.add(rows[0], not_after=NOW)
    tally.add(rows[1], error="disk full")
    assert (tally.issued, tally.expiry, tally.errors()) == (1, NOW, ["line 3 (b): disk full"])
    assert tally.verdict() == ("1 of 3 row(s) failed (line 3); fix them and run the same command again: the rows "
                               "already done are skipped")


def test_no_module_shadows_the_standard_library():
    import pathlib
    import sys

    import keytool_py

    root = pathlib.Path(keytool_py.__file__).parent
    names = {p.stem for p in root.rglob("*.py")} - {"__init__", "__main__"}
    assert "passwords" in names and "describe" in names  # not vacuous
    assert sorted(names & set(sys.stdlib_module_names)) == []


def test_ktpy_completes_password_sources(tmp_path):
    """Through the real console script, as a shell asks: --storepass (any command) offers the forms."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    ktpy = Path(sys.executable).parent / "ktpy"
    for words, expected in (("ktpy sign-jwt --storepass ", "pass:,env:,file:,prompt,generate:"),
                            ("ktpy delete ks.jks --storepass p", "pass:,prompt")):
        env = {**os.environ, "_KTPY_COMPLETE": "bash_complete", "COMP_WORDS": words,
               "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1))}
        proc = subprocess.run([ktpy], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        assert ",".join(line.split(",")[1] for line in proc.stdout.splitlines()) == expected


def test_help_lists_every_command_under_a_heading():
    """`ktpy --help` groups the commands by task (app.COMMAND_GROUPS); a command in no group is
    still listed, under "Other", and this test says where to add it."""
    from helpers import ktpy

    from keytool_py.cli.app import COMMAND_GROUPS

    grouped = [name for names in COMMAND_GROUPS.values() for name in names]
    assert len(grouped) == len(set(grouped)), "a command is listed under two headings in COMMAND_GROUPS"
    ungrouped = sorted(set(COMMAND_MODULES) - set(grouped))
    assert not ungrouped, (f"{ungrouped} not in keytool_py/cli/app.py COMMAND_GROUPS: add each command under "
                           "the heading of what the user is doing (Make, Package, Change a store, Check, "
                           "Mule and Salesforce, Over time)")
    assert set(grouped) <= set(COMMAND_MODULES), "COMMAND_GROUPS names a command that does not exist"
    out = ktpy("--help").output
    headings = [line[:-1] for line in out.splitlines() if line and not line.startswith(" ") and line.endswith(":")]
    assert headings == ["Options", *COMMAND_GROUPS]
    listed = [line.split()[0] for line in out.split("Make:", 1)[1].splitlines()
              if line.startswith("  ") and not line.startswith("  Run ")]
    assert sorted(listed) == sorted(COMMAND_MODULES)


def test_a_command_in_no_group_is_listed_under_other(monkeypatch):
    from helpers import ktpy

    from keytool_py.cli import app

    monkeypatch.setattr(app, "COMMAND_GROUPS", {k: tuple(n for n in v if n != "crl")
                                                for k, v in app.COMMAND_GROUPS.items()})
    out = ktpy("--help").output
    assert out.split("Other:", 1)[1].split()[0] == "crl"
