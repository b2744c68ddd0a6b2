import pytest

from keytool_py import BadInputError, OutputExistsError
from keytool_py.passwords import MissingSecretError, resolve


def _resolve(spec, **kw):
    warnings = []
    kw.setdefault("is_terminal", lambda: False)
    pw = resolve(spec, option="--storepass", warn=warnings.append, **kw)
    return pw, warnings


def test_pass_warns_about_the_process_list():
    pw, warnings = _resolve("pass:changeit")
    assert pw.value == "changeit"
    assert warnings == ["Warning: --storepass pass:... shows the password in the process list and shell "
                        "history; prefer env:VAR, file:PATH or prompt"]


def test_env(monkeypatch):
    monkeypatch.setenv("KTPY_TEST_PW", "from-env")
    assert _resolve("env:KTPY_TEST_PW")[0].value == "from-env"
    monkeypatch.delenv("KTPY_TEST_PW")
    with pytest.raises(BadInputError, match="^environment variable KTPY_TEST_PW is not set"):
        _resolve("env:KTPY_TEST_PW")


@pytest.mark.parametrize("content,expected", [
    (b"secret\n", "secret"), (b"secret\r\n", "secret"), (b"secret", "secret"),
    (b"secret\n\n", "secret\n"), (b" spaced \n", " spaced "),
])
def test_file_strips_one_trailing_newline(tmp_path, content, expected):
    path = tmp_path / "pw.txt"
    path.write_bytes(content)
    assert _resolve(f"file:{path}")[0].value == expected


def test_file_errors(tmp_path):
    with pytest.raises(BadInputError, match="does not exist"):
        _resolve(f"file:{tmp_path / 'nope'}")
    with pytest.raises(BadInputError, match="is a directory"):
        _resolve(f"file:{tmp_path}")
    (tmp_path / "empty").write_bytes(b"\n")
    with pytest.raises(BadInputError, match="^the password given by --storepass is empty$"):
        _resolve(f"file:{tmp_path / 'empty'}")


def test_no_source_and_no_terminal_names_the_option():
    with pytest.raises(MissingSecretError, match="^no password given and stdin is not a terminal; "
                       "pass --storepass env:VAR, file:PATH or pass:TEXT$"):
        _resolve(None)
    with pytest.raises(MissingSecretError):
        _resolve("prompt")


def test_prompt_on_a_terminal_confirms_when_asked():
    asked = []

    def ask(label, confirm):
        asked.append((label, confirm))
        return "typed-pw"

    pw, _ = _resolve(None, is_terminal=lambda: True, ask=ask, confirm=True)
    assert pw.value == "typed-pw" and asked == [("Enter storepass", True)]


def test_bare_text_is_refused_without_echoing_it():
    with pytest.raises(BadInputError) as info:
        _resolve("hunter2hunter2")
    assert "hunter2" not in str(info.value)
    assert "pass:TEXT, env:VAR, file:PATH, prompt or generate:PATH" in str(info.value)


def test_generate(tmp_path):
    pw, _ = _resolve(f"generate:{tmp_path / 'pw.txt'}")
    assert len(pw.value) == 24 and pw.value.isascii() and pw.value.isprintable()
    assert pw.generated_file == tmp_path / "pw.txt"
    assert not (tmp_path / "pw.txt").exists()  # the caller writes it with its other outputs
    assert pw.value != _resolve(f"generate:{tmp_path / 'pw2.txt'}")[0].value
    (tmp_path / "pw.txt").write_text("x")
    with pytest.raises(OutputExistsError, match="already exists; to use the password in it"):
        _resolve(f"generate:{tmp_path / 'pw.txt'}")


def test_password_never_shows_in_repr_or_str():
    pw, _ = _resolve("pass:topsecret")
    assert "topsecret" not in repr(pw) and "topsecret" not in str(pw)
