import os
import stat

import pytest

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

    def failing(out):
        calls.append(out.path.name)
        if len(calls) == 2:
            raise OSError(28, "No space left on device", str(out.path))
        return real(out)

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
