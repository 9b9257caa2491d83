"""The shape of the code: no import cycles among the use cases, ``bot/`` never imports
``handlers/`` (the Application is composed above both), and the domain stays pure. Every
``import`` counts, also one inside a function: a cycle broken only by a late import is still a
cycle in the design."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _module(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _imports(path: Path, modules: set[str] | None = None) -> set[str]:
    """Every module ``path`` imports. ``from a import b`` is ``a.b`` when that is one of
    ``modules`` (a submodule), else ``a``."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            subs = {f"{node.module}.{a.name}" for a in node.names} & (modules or set())
            out.update(subs or {node.module})
    return out


def _graph(*packages: str) -> dict[str, set[str]]:
    files = [p for pkg in packages for p in (ROOT / pkg).rglob("*.py")]
    names = {_module(p) for p in files}
    return {_module(p): {m for m in _imports(p, names) if m in names and m != _module(p)} for p in files}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_among_the_services() -> None:
    graph = _graph("bot/services")
    assert "bot.services.chain" in graph["bot.services.account"]  # the graph sees the imports
    assert _cycles(graph) == []


def test_no_import_cycles_in_bot_handlers_workflow_storage() -> None:
    assert _cycles(_graph("bot", "handlers", "workflow", "storage", "splp")) == []


def test_bot_does_not_import_handlers() -> None:
    offenders = {m: sorted(i for i in deps if i.split(".")[0] == "handlers")
                 for m, deps in ((_module(p), _imports(p)) for p in (ROOT / "bot").rglob("*.py"))}
    assert {m: d for m, d in offenders.items() if d} == {}


def test_the_domain_is_pure() -> None:
    """workflow/: no telegram, no sqlalchemy, nothing of the bot's or the database's."""
    banned = ("telegram", "sqlalchemy", "bot", "handlers", "storage", "httpx", "aiohttp")
    found = {}
    for p in (ROOT / "workflow").rglob("*.py"):
        bad = sorted(i for i in _imports(p) if i.split(".")[0] in banned)
        if bad:
            found[_module(p)] = bad
    assert found == {}
