"""Shell completion through click for bash, zsh and fish: the scripts, and what the real
bash completes with the bash script loaded: command names (loaded lazily, still all listed),
options, store types and file paths."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import require_tool

from keytool_py.cli.app import COMMAND_MODULES

KTPY = Path(sys.executable).parent / "ktpy"  # the console script of the venv running the tests


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PATH": f"{KTPY.parent}{os.pathsep}{os.environ.get('PATH', '')}", **extra}


@pytest.mark.parametrize("shell, marker", [
    ("bash", "complete -o nosort -F _ktpy_completion ktpy"),
    ("zsh", "compdef _ktpy_completion ktpy"),
    ("fish", 'complete --no-files --command ktpy --arguments "(_ktpy_completion)"'),
])
def test_completion_script_is_printed(shell, marker, tmp_path):
    proc = subprocess.run([KTPY], env=_env(_KTPY_COMPLETE=f"{shell}_source"), cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert marker in proc.stdout
    assert proc.stderr == ""


# Each case: the words typed so far (the last one is being completed) and what bash offers.
CASES = [
    ("ktpy build-keystore --type ''", ["jks", "pkcs12", "jceks"]),
    ("ktpy build-keystore --type jks,p", ["jks,pkcs12"]),
    ("ktpy kit --types jks,", ["jks,pkcs12", "jks,jceks"]),
    ("ktpy issue-client --types pkcs12,j", ["pkcs12,jks", "pkcs12,jceks"]),
    ("ktpy b", ["build-keystore", "build-truststore"]),
    ("ktpy ''", sorted(COMMAND_MODULES)),
    ("ktpy export-pem --with", ["--with-chain", "--with-root"]),
    ("ktpy verify x.pem --profile salesforce-", ["salesforce-mtls", "salesforce-jwt"]),
    ("ktpy convert ks.jks --to p", ["pkcs12"]),
]


def test_bash_completes_commands_options_and_store_types(tmp_path):
    bash = require_tool("bash")
    lines = ['eval "$(_KTPY_COMPLETE=bash_source ktpy)"']
    for words, _ in CASES:
        lines += [f"COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); COMPREPLY=()",
                  "_ktpy_completion ktpy", 'echo "${COMPREPLY[*]}"']
    proc = subprocess.run([bash, "-c", "\n".join(lines)], env=_env(), cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [" ".join(expected) for _, expected in CASES]


@pytest.mark.parametrize("words", ["ktpy export-pem ", "ktpy build-keystore --key ", "ktpy inspect ",
                                   "ktpy kit --out-dir ", "ktpy mule-config -o "])
def test_paths_are_completed_as_files(words, tmp_path):
    """click answers 'file' (or 'dir'), and the bash script then lets bash complete paths."""
    proc = subprocess.run([KTPY], env=_env(_KTPY_COMPLETE="bash_complete", COMP_WORDS=words,
                                           COMP_CWORD=str(len(shlex.split(words)))),
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split(",")[0] in ("file", "dir")
