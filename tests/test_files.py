import contextlib
import os
import stat

import pytest
from helpers import chattr, immutable_folder, ktpy

from keytool_py import BadInputError, OutputExistsError
from keytool_py.files import Output, read, write_all


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_modes_and_private_folders(tmp_path):
    out = tmp_path / "new" / "deeper"
    write_all([Output(out / "c.pem", b"cert"), Output(out / "c.key", b"key", secret=True)])
    assert (out / "c.pem").read_bytes() == b"cert"
    assert mode(out / "c.pem") == 0o644
    assert mode(out / "c.key") == 0o600
    assert mode(out) == 0o700  # a folder made for a key is private
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []  # no temp files left


def test_modes_ignore_umask(tmp_path):
    old = os.umask(0)
    try:
        write_all([Output(tmp_path / "k", b"x", secret=True)])
    finally:
        os.umask(old)
    assert mode(tmp_path / "k") == 0o600


def test_refuses_to_replace_without_force(tmp_path):
    (tmp_path / "b").write_bytes(b"old")
    with pytest.raises(OutputExistsError, match=r"b already exists; pass --force to replace it$"):
        write_all([Output(tmp_path / "a", b"new-a"), Output(tmp_path / "b", b"new-b")])
    assert not (tmp_path / "a").exists()  # nothing of the batch was written
    assert (tmp_path / "b").read_bytes() == b"old"
    write_all([Output(tmp_path / "b", b"new-b")], force=True)
    assert (tmp_path / "b").read_bytes() == b"new-b"


def test_all_or_nothing_when_a_write_fails(tmp_path, monkeypatch):
    import keytool_py.files as files

    real = files._write_temp
    calls = []

    def failing(out, *rest):
        calls.append(out.path.name)
        if len(calls) == 2:
            raise OSError(28, "No space left on device", str(out.path))
        return real(out, *rest)

    monkeypatch.setattr(files, "_write_temp", failing)
    with pytest.raises(BadInputError, match="cannot write .*b: No space left on device"):
        write_all([Output(tmp_path / "sub" / "a", b"1"), Output(tmp_path / "sub" / "b", b"2")])
    assert not (tmp_path / "sub").exists()


def test_directory_as_output(tmp_path):
    with pytest.raises(BadInputError, match="is a directory; name a file to write"):
        write_all([Output(tmp_path, b"x")], force=True)


def test_read_errors(tmp_path):
    with pytest.raises(BadInputError, match="^key .*nope does not exist$"):
        read(tmp_path / "nope", what="key")
    with pytest.raises(BadInputError, match="is a directory, not a file"):
        read(tmp_path, what="key")


def _tree(folder):
    """Every file (hidden ones too) with its bytes: what a user would find."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _fail_on_call(monkeypatch, name, n, errno=16, strerror="Device or resource busy"):
    """A test double of files.os.<name> failing on its n-th call (a busy or immutable target
    cannot be made without root)."""
    import keytool_py.files as files

    real = getattr(os, name)
    calls = []

    def failing(*args, **kwargs):
        calls.append(args)
        if len(calls) == n:
            raise OSError(errno, strerror, str(args[-1]))
        return real(*args, **kwargs)

    monkeypatch.setattr(files.os, name, failing)
    return calls


def test_force_failure_puts_every_old_file_back(tmp_path, monkeypatch):
    names = ["a", "b", "c", "d"]
    for name in names[:3]:
        (tmp_path / name).write_bytes(b"old-" + name.encode())
    before = _tree(tmp_path)
    _fail_on_call(monkeypatch, "replace", 3)
    with pytest.raises(BadInputError, match=rf"^cannot write {tmp_path / 'c'}: Device or resource busy$"):
        write_all([Output(tmp_path / n, b"new-" + n.encode(), secret=n == "a") for n in names], force=True)
    assert _tree(tmp_path) == before  # a and b back, c untouched, d never appears, no temp or aside files
    assert mode(tmp_path / "a") == 0o644  # the old file itself, not a copy with the new mode


def test_force_success_leaves_no_aside_files(tmp_path):
    (tmp_path / "a").write_bytes(b"old")
    write_all([Output(tmp_path / "a", b"new"), Output(tmp_path / "b", b"b")], force=True)
    assert _tree(tmp_path) == {"a": b"new", "b": b"b"}


def test_force_refuses_a_directory_target_before_writing(tmp_path):
    """A real target that cannot be replaced: a directory where the 3rd file goes."""
    (tmp_path / "a").write_bytes(b"old")
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "inside").write_bytes(b"keep")
    before = _tree(tmp_path)
    with pytest.raises(BadInputError, match=rf"^{tmp_path / 'c'} is a directory; name a file to write$"):
        write_all([Output(tmp_path / n, b"new") for n in "abc"], force=True)
    assert _tree(tmp_path) == before


def test_write_error_names_the_output_not_the_temp_file(tmp_path):
    """A real failure: the output folder is read-only (as root, which ignores permissions: an
    immutable folder), so the temporary file cannot be made there."""
    with contextlib.ExitStack() as stack:
        root = os.geteuid() == 0  # root ignores permissions: the folder is made immutable instead
        folder = (stack.enter_context(immutable_folder(tmp_path)) if root else tmp_path) / "ro"
        folder.mkdir()
        folder.chmod(0o555)
        if root:
            assert chattr("+i", folder).returncode == 0
        try:
            why = "Operation not permitted" if root else "Permission denied"
            with pytest.raises(BadInputError, match=rf"^cannot write {folder / 'x.pem'}: {why}$"):
                write_all([Output(folder / "x.pem", b"x")])
        finally:
            if root:
                assert chattr("-i", folder).returncode == 0
            folder.chmod(0o755)
        assert list(folder.iterdir()) == []


def _kit_args(folder):
    return ["kit", "--out-dir", str(folder), "--subject", "CN=mule-client", "--storepass", "env:SP",
            "--types", "jks", "--key-type", "ec-p256"]


def _make_kit(folder):
    ktpy(*_kit_args(folder), env={"SP": "store-pw-1"})
    return folder


@pytest.fixture
def old_kit(tmp_path):
    return _make_kit(tmp_path / "kit")


def _kit_force(folder):
    return ktpy(*_kit_args(folder), "--force", env={"SP": "store-pw-2"}, code=1).stderr.splitlines()[-1]


def test_kit_force_failing_on_an_immutable_file_keeps_the_old_kit(tmp_path):
    """A real failing rename: the last file the kit writes is immutable (chattr +i, as root)."""
    with immutable_folder(tmp_path) as where:
        old_kit = _make_kit(where / "kit")
        before = _tree(old_kit)
        target = old_kit / "README.txt"
        assert chattr("+i", target).returncode == 0
        try:
            message = _kit_force(old_kit)
        finally:
            assert chattr("-i", target).returncode == 0
        assert message == f"Error: cannot write {target}: Operation not permitted"
        assert _tree(old_kit) == before  # ca/ca.key and its password file as they were: nothing stranded


def test_kit_force_failing_on_its_11th_file_keeps_the_old_kit(old_kit, monkeypatch):
    before = _tree(old_kit)
    assert len(before) >= 11
    calls = _fail_on_call(monkeypatch, "replace", 11)
    message = _kit_force(old_kit)
    assert len(calls) == 11 + 10  # the 11th fails; the ten placed before it are put back
    assert message.startswith("Error: cannot write ") and message.endswith(": Device or resource busy")
    assert _tree(old_kit) == before


def test_read_refuses_an_endless_input_naming_the_limit(tmp_path):
    with pytest.raises(BadInputError, match=r"^file /dev/zero is larger than 1 MiB, the most ktpy reads for a file$"):
        read("/dev/zero", limit=1024 * 1024)


CRASH_WRITER = """
import os, signal, sys
from pathlib import Path
import keytool_py.files as files
folder = Path(sys.argv[1])
outputs = [files.Output(folder / n, b"new-" + n.encode()) for n in ("a", "b", "c")]
calls = [0]
real_replace = os.replace
def replace(*args, **kwargs):
    calls[0] += 1
    if calls[0] == 2:
        os.kill(os.getpid(), signal.SIGKILL)  # killed after the first file is replaced
    return real_replace(*args, **kwargs)
files.os.replace = replace
journal = files.Journal(folder)
with journal:
    files.write_all(outputs, force=True, tag=journal.begin("group", outputs))
"""


def test_journal_recovery_after_a_kill_puts_old_files_back(tmp_path):
    """A real SIGKILL in the middle of a --force write: the next run's recover() puts the old
    file back from where it was kept aside, and removes the new files and temporary files."""
    import subprocess
    import sys

    from keytool_py.files import Journal

    for name in ("a", "b"):
        (tmp_path / name).write_bytes(b"old-" + name.encode())
    (tmp_path / "unrelated").write_bytes(b"not ours")
    done = subprocess.run([sys.executable, "-c", CRASH_WRITER, str(tmp_path)], capture_output=True, timeout=60)
    assert done.returncode == -9, done.stderr
    assert (tmp_path / "a").read_bytes() == b"new-a"  # the crash left a replaced file...
    assert any(p.name.endswith(".old") for p in tmp_path.iterdir())  # ...its old one kept aside
    with Journal(tmp_path) as journal:
        complete, removed = journal.recover()
        journal.finish()
    assert complete == []
    assert _tree(tmp_path) == {"a": b"old-a", "b": b"old-b", "unrelated": b"not ours"}
    assert {p.name for p in removed} >= {"a"}
