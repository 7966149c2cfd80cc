"""Entry-point and import-string discovery for tools and guardrails.

Listing reads installed distributions' metadata only (`importlib-metadata`), so
`agentgraph tools` never runs plugin code. Loading is explicit and turns every failure
(missing module, missing attribute, an exception while importing) into `PluginError`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from importlib_metadata import distributions

from agentgraph.errors import PluginError

__all__ = [
    "GROUPS",
    "GUARDRAIL_GROUP",
    "TOOL_GROUP",
    "PluginEntry",
    "find_entry",
    "list_entries",
    "load_entry",
    "load_ref",
]

TOOL_GROUP = "agentgraph.tools"
GUARDRAIL_GROUP = "agentgraph.guardrails"
GROUPS = (TOOL_GROUP, GUARDRAIL_GROUP)


@dataclass(frozen=True, slots=True)
class PluginEntry:
    """One installed entry point, described without importing it.

    Attributes:
        name: the entry point's name (what a graph writes after `entry_point:`).
        group: `agentgraph.tools` or `agentgraph.guardrails`.
        value: the import string `module:attribute`.
        dist: the distribution that provides it.
        version: that distribution's version.
    """

    name: str
    group: str
    value: str
    dist: str
    version: str

    @property
    def kind(self) -> str:
        return "tool" if self.group == TOOL_GROUP else "guardrail"


def list_entries(groups: tuple[str, ...] = GROUPS) -> list[PluginEntry]:
    """Every installed tool and guardrail entry point, sorted by group then name."""
    found: dict[tuple[str, str], PluginEntry] = {}
    for dist in distributions():
        meta_name = dist.metadata["Name"] or "?"
        for ep in dist.entry_points:
            if ep.group in groups:
                found.setdefault(
                    (ep.group, ep.name),
                    PluginEntry(ep.name, ep.group, ep.value, meta_name, dist.version or "?"),
                )
    return sorted(found.values(), key=lambda e: (e.group, e.name))


def find_entry(group: str, name: str) -> PluginEntry | None:
    """The installed entry point `name` in `group`, or None."""
    for entry in list_entries((group,)):
        if entry.name == name:
            return entry
    return None


def load_ref(ref: str) -> Any:
    """Import `package.module:attribute` (the attribute may be dotted).

    Raises:
        PluginError: naming the module or attribute that is missing, or the exception the
            module raised while importing.
    """
    module_name, sep, attr = ref.partition(":")
    if not sep or not module_name or not attr:
        raise PluginError(f"'{ref}' is not an import string; write 'package.module:attribute'")
    try:
        obj: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or module_name
        raise PluginError(f"cannot import '{module_name}': no module named '{missing}'") from exc
    except Exception as exc:  # plugin code raised while importing: report, don't crash
        raise PluginError(f"importing '{module_name}' failed: {type(exc).__name__}: {exc}") from exc
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError as exc:
            raise PluginError(f"'{module_name}' has no attribute '{attr}'") from exc
    return obj


def load_entry(group: str, name: str) -> Any:
    """Load the entry point `name` of `group`.

    Raises:
        PluginError: when it is not installed or cannot be imported.
    """
    entry = find_entry(group, name)
    if entry is None:
        raise PluginError(f"no installed plugin provides {group} entry point '{name}'")
    return load_ref(entry.value)
