"""The folder tree is the architecture: imports point down only (DESIGN.md, STYLE.md §a).

These tests read the source with `ast`, so they check every import, including the lazy
ones inside functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "agentgraph"

# Which agentgraph packages each layer may import. `errors` is importable by all.
ALLOWED: dict[str, set[str]] = {
    "audio": set(),
    "protocol": set(),
    "spec": set(),
    "plugins": set(),
    "models": {"protocol", "audio"},
    "engine": {"protocol", "audio"},
    "realtime": {"models", "protocol", "audio"},
    "compile": {"spec", "plugins", "realtime", "audio", "protocol"},
    "transports": {"realtime", "models", "protocol", "audio"},
    "app": {
        "spec",
        "compile",
        "plugins",
        "realtime",
        "models",
        "protocol",
        "engine",
        "transports",
        "audio",
    },
    "cli": {
        "spec",
        "compile",
        "plugins",
        "realtime",
        "models",
        "protocol",
        "engine",
        "transports",
        "audio",
        "app",
    },
}
# Sans-I/O: these never touch the event loop or the network themselves.
NO_IO_FILE_NAMES = {"protocol.py", "sdp.py", "rtp.py", "message.py", "sip.py"}
NO_ASYNCIO_LAYERS = {"spec", "compile", "audio", "protocol"}


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py"))


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            # Relative imports stay inside the package; resolve one level for the check.
            base = path.parent.relative_to(PACKAGE.parent).parts[: -(node.level - 1) or None]
            names.add(".".join((*base, node.module or "")).rstrip("."))
    return names


def _layer(path: Path) -> str | None:
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else None


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down(path: Path) -> None:
    layer = _layer(path)
    if layer is None or layer not in ALLOWED:
        return
    for name in _imports(path):
        parts = name.split(".")
        if parts[0] != "agentgraph" or len(parts) < 2:
            continue
        target = parts[1]
        if target in (layer, "errors", "signatures"):  # leaf modules every layer may use
            continue
        assert target in ALLOWED[layer], (
            f"{path.relative_to(PACKAGE.parent)} ({layer}) imports agentgraph.{target}; "
            f"{layer} may import only {sorted(ALLOWED[layer]) or 'nothing else'}"
        )


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_sans_io_modules_do_no_io(path: Path) -> None:
    layer = _layer(path)
    imported = {name.split(".")[0] for name in _imports(path)}
    if path.name in NO_IO_FILE_NAMES:
        assert not imported & {"asyncio", "socket"}, f"{path} must stay sans-I/O"
    if layer in NO_ASYNCIO_LAYERS:
        assert "asyncio" not in imported, f"{path}: the {layer} layer never imports asyncio"


def test_every_package_declares_all() -> None:
    missing = [
        str(init.relative_to(PACKAGE.parent))
        for init in PACKAGE.rglob("__init__.py")
        if "__all__" not in init.read_text(encoding="utf-8")
    ]
    assert not missing, f"packages without __all__: {missing}"


MAX_LINES = 600
# Modules over the cap when it was set (owners split them; the list only ever shrinks).
OVER_THE_CAP = {
    "agentgraph/protocol/events.py",
    "agentgraph/engine/protocol.py",
    "agentgraph/engine/policy/interpret.py",  # grew past the cap on 2026-12-03
}
# Import cycles present when the check was added (the list only ever shrinks).
KNOWN_CYCLES = [
    [
        "agentgraph.transports.sip.outgoing",
        "agentgraph.transports.sip.protocol",
        "agentgraph.transports.sip.uac",
    ]
]


def test_modules_stay_small() -> None:
    big = {
        str(p.relative_to(PACKAGE.parent)): n
        for p in _modules()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    new = {path: n for path, n in big.items() if path not in OVER_THE_CAP}
    assert not new, f"split these by concept (STYLE.md §a: at most {MAX_LINES} lines): {new}"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _module_imports(path: Path, modules: set[str]) -> set[str]:
    """agentgraph modules imported at module level (TYPE_CHECKING blocks included: a
    typing-only cycle is still a cycle; imports inside functions are lazy by design)."""
    me = _module_name(path)
    package = me if path.name == "__init__.py" else me.rsplit(".", 1)[0]
    found: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    module = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    module = node.module or ""
                for alias in node.names:
                    sub = f"{module}.{alias.name}"
                    found.add(sub if sub in modules else module)
            elif isinstance(node, ast.If):
                visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)

    visit(ast.parse(path.read_text(encoding="utf-8")).body)
    return {name for name in found if name in modules and name != me}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycles() -> None:
    paths = {_module_name(p): p for p in _modules()}
    graph = {name: _module_imports(path, set(paths)) for name, path in paths.items()}
    new = [c for c in _cycles(graph) if c not in KNOWN_CYCLES]
    assert not new, f"import cycles (parts must not import their owner back): {new}"


# Reading the clock: sans-I/O cores take `now` as an argument instead (STYLE.md §b).
_CLOCK_CALLS = {"time", "monotonic", "perf_counter", "now", "utcnow", "today", "time_ns"}


@pytest.mark.parametrize(
    "path",
    [p for p in _modules() if p.name == "protocol.py"],
    ids=lambda p: str(p.relative_to(PACKAGE)),
)
def test_protocol_cores_never_read_the_clock(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            assert all(a.name != "time" for a in node.names), f"{path}: imports time"
        elif isinstance(node, ast.ImportFrom) and node.module == "time":
            raise AssertionError(f"{path}: imports from time")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in _CLOCK_CALLS
            and not node.args
        ):
            raise AssertionError(
                f"{path}:{node.lineno}: reads the clock ({ast.unparse(node.func)}()); "
                "take `now` as an argument"
            )
