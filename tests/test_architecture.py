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


def test_modules_stay_small() -> None:
    big = {
        str(p.relative_to(PACKAGE.parent)): n
        for p in _modules()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 800
    }
    assert not big, f"split these by concept (STYLE.md §a): {big}"
