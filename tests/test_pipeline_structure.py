"""The package's dependency rules (docs/architecture.md): stages never import an edge, and no
two parts import each other — checked on the source, function-level imports included."""
from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "emoanim_server"
#: stage packages (pure computation) and edges (I/O: files, sockets, argv)
STAGES = ("audio", "emotion", "face", "gesture", "rigs", "pipeline", "live_batch", "options", "track")
EDGES = ("cli", "server", "export")


def _part(mod: str) -> str:
    return mod.split(".")[1] if mod.count(".") >= 1 else mod


def _imports() -> dict[str, set[str]]:
    """module -> modules of the package it imports (anywhere in its body)."""
    out: dict[str, set[str]] = {}
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG.parent).with_suffix("")
        mod = ".".join(rel.parts)
        if mod.endswith(".__init__"):
            mod = mod[: -len(".__init__")]
        pkg = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = pkg.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
                names = [target] if node.module else [f"{target}.{a.name}" for a in node.names]
                deps.update(names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("emoanim_server"):
                deps.add(node.module)
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names if a.name.startswith("emoanim_server"))
        out[mod] = deps
    return out


def _is_edge(mod: str) -> bool:
    """Edges: the CLI, the server, the exporters, and the stages' flag modules (``*.cli``, ``*_cli``)."""
    last = mod.rpartition(".")[2]
    return _part(mod) in EDGES or last == "cli" or last.endswith("_cli")


def test_stages_never_import_an_edge():
    bad = []
    for mod, deps in _imports().items():
        if _part(mod) in STAGES and not _is_edge(mod):
            bad += [f"{mod} -> {d}" for d in deps if _is_edge(d)]
    assert not bad, bad


def test_no_import_circles_among_stage_modules():
    """pipeline <-> emotion.stage <-> face used to import each other (function-level imports)."""
    imp = _imports()
    mods = set(imp)

    def resolve(d: str) -> str | None:  # "pkg.name" may be a module or a name inside pkg
        while d and d not in mods:
            d = d.rpartition(".")[0]
        return d or None

    graph = {m: {r for d in ds if (r := resolve(d)) and r != m and not _is_edge(r)}
             for m, ds in imp.items() if _part(m) in STAGES and not _is_edge(m)}
    cycles, state = [], {}

    def visit(m, stack):
        state[m] = 1
        for n in graph.get(m, ()):
            if n.endswith(("emoanim_server", "__init__")) or n == "emoanim_server":
                continue
            if state.get(n) == 1:
                cycles.append(stack[stack.index(n):] + [n] if n in stack else [m, n])
            elif n not in state:
                visit(n, stack + [n])
        state[m] = 2

    for m in graph:
        if m not in state:
            visit(m, [m])
    assert not cycles, cycles


def test_the_server_never_imports_the_cli():
    """The CLI edge registers the server's subcommands (server/cli.py SUBCOMMANDS); the server
    importing ``emoanim_server.cli`` made the two edges depend on each other."""
    bad = [f"{mod} -> {d}" for mod, deps in _imports().items() if _part(mod) == "server"
           for d in deps if d == "emoanim_server.cli" or d.startswith("emoanim_server.cli.")]
    assert not bad, bad

