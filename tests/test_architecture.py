"""The package's shape, checked from its source: no import cycle anywhere in keytool_py/ (lazy
imports inside functions count: they are cycles at run time too), and the keystore formats sit
on the model, never on each other or on the package that dispatches to them."""

from __future__ import annotations

import ast
import pathlib

import keytool_py

PACKAGE = pathlib.Path(keytool_py.__file__).parent


def _module_name(path: pathlib.Path, root: pathlib.Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: pathlib.Path = PACKAGE) -> dict[str, set[str]]:
    """module -> the keytool_py modules it imports, anywhere in its source (top level, inside
    functions, under TYPE_CHECKING). `from .pkg import name` is an edge to pkg.name when that is
    a module, else to pkg."""
    modules = {_module_name(p, root): p for p in root.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                edges.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    edges.add(sub if sub in modules else target)
        graph[name] = {e for e in edges if e in modules and e != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle():
    found = cycles(import_graph())
    assert found == [], f"import cycles in keytool_py/: {found}"


def test_the_walker_finds_a_planted_cycle(tmp_path):
    """The check can fail: two modules importing each other lazily are a cycle."""
    package = tmp_path / "keytool_py"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("def f():\n    from . import b\n")
    (package / "sub" / "b.py").write_text("from . import c\n")
    (package / "sub" / "c.py").write_text("from .. import sub\n")
    assert cycles(import_graph(package)) == [["keytool_py.sub", "keytool_py.sub.b", "keytool_py.sub.c"]]


def test_formats_import_the_model_not_each_other_nor_the_package():
    graph = import_graph()
    formats = {f"keytool_py.keystore.{n}" for n in ("jks", "jceks", "pkcs12", "java_container", "p12codec")}
    for name in sorted(formats):
        bad = graph[name] & ({"keytool_py.keystore"} | (formats - {"keytool_py.keystore.java_container",
                                                                   "keytool_py.keystore.p12codec"}))
        assert not bad, f"{name} imports {sorted(bad)}; import the model (keystore/model.py) instead"
    assert not graph["keytool_py.keystore.model"] & formats


def _calls(predicate) -> list[str]:
    """'module:function' of every call in keytool_py/ (outside keystore/, the loader itself)
    for which predicate(call node) holds."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "keystore" in path.relative_to(PACKAGE).parts[:-1]:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]:
            for node in ast.walk(function):
                if isinstance(node, ast.Call) and predicate(node):
                    found.append(f"{_module_name(path, PACKAGE)}:{function.name}")
        top_level = [n for n in tree.body if not isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)]
        for statement in top_level:
            for node in ast.walk(statement):
                if isinstance(node, ast.Call) and predicate(node):
                    found.append(f"{_module_name(path, PACKAGE)}:<module>")
    return sorted(set(found))


def _loads_a_keystore(call: ast.Call) -> bool:
    """keystore.load(...), load_keystore(...) or a read of a file for an edit."""
    func = call.func
    if isinstance(func, ast.Attribute):
        owner = func.value.id if isinstance(func.value, ast.Name) else ""
        return (owner in ("keystore", "ks") and func.attr == "load") or \
            (owner == "files" and func.attr == "read_for_edit") or \
            (owner in ("keystore", "ks", "java_container", "pkcs12", "jks", "jceks") and func.attr in ("read", "load"))
    return isinstance(func, ast.Name) and func.id in ("load_keystore", "read_for_edit")


def test_one_call_loads_a_keystore_from_a_path():
    """Every command that loads a keystore (from a path, or from a file's bytes read once) comes
    through opener.open_store: the one call of the loader, with one message for a file that is
    not a keystore and the one place where an edit's lock is taken (opener.editing)."""
    assert _calls(_loads_a_keystore) == ["keytool_py.opener:open_store", "keytool_py.opener:read_source"]
    message = "is not a JKS, JCEKS, PKCS12, BKS or UBER keystore"
    spelled = [str(p.relative_to(PACKAGE)) for p in sorted(PACKAGE.rglob("*.py"))
               if message in p.read_text(encoding="utf-8")]
    # (keystore.load says it of bytes, for library callers: "the file is not ...")
    assert spelled == ["keystore/__init__.py", "opener.py"], \
        f"the not-a-keystore message is spelled in {spelled}; raise it in opener.py"


def test_an_edit_takes_the_lock_where_it_opens_the_store(monkeypatch, tmp_path, clients):
    """opener.editing holds files.locked(path) from before the file is read until the edit is
    done (the hook where a real lock lives), and lets go when the edit fails."""
    import contextlib

    from keytool_py import KeyType, files, keystore, opener

    events = []

    @contextlib.contextmanager
    def spy(path, wait=None):
        events.append(("lock", str(path)))
        try:
            yield
        finally:
            events.append(("unlock", str(path)))

    real_read = files.read_for_edit
    monkeypatch.setattr(files, "locked", spy)
    monkeypatch.setattr(files, "read_for_edit", lambda *a, **k: events.append(("read", "")) or real_read(*a, **k))
    store = tmp_path / "trust.jks"
    cert = clients[KeyType.EC_P256].cert
    store.write_bytes(keystore.build_store("jks", keystore.trusted_entries([cert]), storepass="changeit"))
    with opener.editing(store, lambda: "changeit") as opened:
        events.append(("edit", opened.store.entries[0].alias))
    assert events == [("lock", str(store)), ("read", ""), ("edit", opened.store.entries[0].alias),
                      ("unlock", str(store))]
    events.clear()
    store.write_bytes(b"plain text")
    try:
        with opener.editing(store, lambda: "changeit"):
            events.append(("edit", ""))
    except keytool_py.KtpyError as exc:
        events.append(("refused", str(exc)))
    assert events == [("lock", str(store)), ("read", ""), ("unlock", str(store)),
                      ("refused", f"{store} is not a JKS, JCEKS, PKCS12, BKS or UBER keystore")]


def test_folder_layouts_are_named_once():
    """The kit's file names live in layout.py and the CA ledger's in ledger.py: no other module
    uses one as a string of its own (help and README prose may mention them)."""
    from keytool_py import layout, ledger, mule

    # (README.txt is left out: the SFDX project salesforce_app.py writes has its own)
    names = {*layout.STORE_FILES.values(), *layout.CLIENT_FILES, layout.MULE_CONFIG,
             layout.SECURE_FILE, layout.SECURE_KEY_FILE, layout.CA_PASSWORD_FILE, ledger.LEDGER_FILE}
    owners = {"layout.py", "ledger.py"}
    spelled = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name in owners:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value in names:
                if path.name == "mule.py" and node.value == mule.SECURE_KEY_PROPERTY:
                    continue  # Mule's runtime property of the same name, not the file
                spelled.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.value!r}")
    assert spelled == [], f"layout names spelled outside layout.py/ledger.py: {spelled}"


def test_setup_cfg_declares_every_package_the_library_imports():
    """Each third-party module keytool_py/ imports comes from a distribution that setup.cfg's
    install_requires names (pyasn1 arrived only through pyjks before), or, for an optional
    feature imported only when used (python-pkcs11 for create-ca --pkcs11), one of its extras."""
    import configparser
    import importlib.metadata
    import re
    import sys

    config = configparser.ConfigParser()
    config.read(PACKAGE.parent / "setup.cfg")
    requirements = [config["options"]["install_requires"], *config["options.extras_require"].values()]
    declared = {re.split(r"[<>=!~ ;\[]", line.strip(), maxsplit=1)[0].lower().replace("_", "-")
                for block in requirements for line in block.splitlines()
                if line.strip() and not line.strip().startswith("#")}
    imported = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                imported.add(node.module.split(".")[0])
    third_party = {m for m in imported if m not in sys.stdlib_module_names and m != "keytool_py"}
    distributions = importlib.metadata.packages_distributions()
    missing = {m: distributions.get(m) for m in sorted(third_party)
               if not {d.lower().replace("_", "-") for d in distributions.get(m, [])} & declared}
    assert missing == {}, f"imported but not in setup.cfg install_requires: {missing}"


def test_no_cli_module_imports_another_command_module():
    """A module that defines commands (cli.app.COMMAND_MODULES) imports no other such module:
    what two commands share lives in the library, in app.py, options.py or inputs.py, or in a
    helper module of cli/ that defines no command."""
    from keytool_py.cli.app import COMMAND_MODULES

    graph = import_graph()
    commands = {f"keytool_py.cli.{m}" for m in COMMAND_MODULES.values()}
    for name in sorted(commands):
        others = sorted(graph[name] & commands)
        assert not others, (f"{name} imports {others}: move what they share to cli/inputs.py, "
                            "cli/options.py or the library")
