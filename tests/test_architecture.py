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
