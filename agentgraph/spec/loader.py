"""Strict YAML loading that keeps a position for every node.

Theory of operation: PyYAML (libyaml when available) *composes* the document into nodes
with start/end marks; nothing is constructed by PyYAML, so no tag can run code and no
scalar is typed behind our back. We then walk the nodes once and build a plain tree of
`dict` / `list` / `str`, recording for every path the position of its value (and, for
mapping entries, of its key) and whether the scalar was plain (unquoted). Plain scalars
are typed later, by `coerce.py`, only where the schema wants a number, boolean or null:
`no`, `off` and `0123` stay strings wherever a string is expected.

`${NAME}` and `${NAME:-default}` are replaced in scalar values during the walk; values
taken from the environment are remembered, and those that are secrets (see `secrets.py`:
by the variable's name, by the key they fill, or listed under `secrets:`) are redacted in
every output. Duplicate keys, unknown tags and recursive aliases become findings, not
exceptions.

Hostile documents are bounded: nesting deeper than `MAX_DEPTH` and documents that expand
(through aliases) to more than `MAX_NODES` nodes stop the walk with one AG111 finding, so
a 400-byte alias bomb costs milliseconds and kilobytes, and nothing recurses deeply enough
to raise `RecursionError`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from agentgraph.spec.findings import Finding, Pos, json_path
from agentgraph.spec.secrets import secret_values

__all__ = ["MAX_DEPTH", "MAX_NODES", "Document", "PathKey", "compose_document"]

PathKey = tuple[str | int, ...]

try:  # libyaml's composer is ~10x faster; same nodes and marks.
    _Loader: type[Any] = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _Loader = yaml.SafeLoader

_STD = "tag:yaml.org,2002:"
_SCALAR_TAGS = frozenset(_STD + t for t in ("str", "int", "float", "bool", "null"))
_ENV_RE = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\{[^}]*\}?")
#: Deeper than this is no graph anyone writes by hand.
MAX_DEPTH = 64
#: Nodes after alias expansion; the largest example graph has a few hundred.
MAX_NODES = 20_000


class _TooBig(Exception):
    """The walk stops: the document nests too deeply or expands too much."""


@dataclass(slots=True)
class Document:
    """A composed YAML document: the plain tree plus everything needed to locate nodes."""

    file: str
    lines: list[str]
    data: Any = None
    positions: dict[PathKey, Pos] = field(default_factory=dict)
    key_positions: dict[PathKey, Pos] = field(default_factory=dict)
    plain: set[PathKey] = field(default_factory=set)
    secrets: set[str] = field(default_factory=set)
    env_names: set[str] = field(default_factory=set)
    findings: list[Finding] = field(default_factory=list)
    bad_paths: list[PathKey] = field(default_factory=list)
    substituted: set[PathKey] = field(default_factory=set)
    # (variable name, value, path) for every ${NAME} filled from the environment
    env_values: list[tuple[str, str, PathKey]] = field(default_factory=list)
    # Paths already reported by the loader (unset ${VAR}, disallowed tags): later passes
    # stay quiet about them and everything below them.
    suppressed: set[PathKey] = field(default_factory=set)

    def pos_of(self, path: PathKey, *, key: bool = False) -> Pos | None:
        """The position of the node at `path` (its key if `key`), or of the nearest parent."""
        table = self.key_positions if key else self.positions
        if path in table:
            return table[path]
        for cut in range(len(path) - 1, -1, -1):
            if path[:cut] in self.positions:
                return self.positions[path[:cut]]
        return None

    def finding(
        self,
        code: str,
        message: str,
        path: PathKey,
        *,
        key: bool = False,
        hints: tuple[str, ...] = (),
        severity: str = "error",
    ) -> Finding:
        """Build a finding located at `path` (the key of the entry if `key`)."""
        pos = self.pos_of(path, key=key)
        src = self.lines[pos.line - 1] if pos and 0 < pos.line <= len(self.lines) else None
        return Finding(
            code=code,
            message=message,
            file=self.file,
            pos=pos,
            path=json_path(path),
            hints=hints,
            severity=severity,
            source_line=src,
            secrets=frozenset(self.secrets),
        )

    def add(self, code: str, message: str, path: PathKey, **kw: Any) -> None:
        """Record a finding (see `finding`)."""
        self.findings.append(self.finding(code, message, path, **kw))


def _pos(node: yaml.Node) -> Pos:
    s, e = node.start_mark, node.end_mark
    return Pos(s.line + 1, s.column + 1, e.line + 1, e.column + 1)


class _Walker:
    def __init__(self, doc: Document, env: Mapping[str, str]) -> None:
        self.doc = doc
        self.env = env
        self.active: set[int] = set()
        self.nodes = 0

    def substitute(self, text: str, path: PathKey, node: yaml.ScalarNode | None = None) -> str:
        if "$" not in text:
            return text
        self.doc.substituted.add(path)

        def repl(m: re.Match[str]) -> str:
            whole = m.group(0)
            if whole == "$${":
                return "${"
            name = m.group(1)
            if name is None:
                self.doc.add(
                    "AG106",
                    f"malformed variable reference '{whole}'",
                    path,
                    hints=("write ${NAME} or ${NAME:-default}; write $${ for a literal ${",),
                )
                return whole
            self.doc.env_names.add(name)
            value = self.env.get(name)
            if value is None:
                default = m.group(2)
                if default is None:
                    self.doc.suppressed.add(path)
                    finding = self.doc.finding(
                        "AG106",
                        f"environment variable {name} is not set",
                        path,
                        hints=(
                            f"set it (export {name}=...) or give a default: ${{{name}:-value}}",
                        ),
                    )
                    self.doc.findings.append(_narrow(finding, node, m.start(), m.end()))
                    return ""
                return default
            self.doc.env_values.append((name, value, path))
            return value

        return _ENV_RE.sub(repl, text)

    def walk(self, node: yaml.Node, path: PathKey) -> Any:
        doc = self.doc
        self.nodes += 1
        if self.nodes > MAX_NODES:
            doc.add(
                "AG111",
                f"the document expands to more than {MAX_NODES:,} values (aliases?)",
                path,
                hints=("graph files are small; write values out instead of nesting aliases",),
            )
            raise _TooBig
        if len(path) > MAX_DEPTH:
            doc.add("AG111", f"values are nested more than {MAX_DEPTH} levels deep", path)
            raise _TooBig
        doc.positions[path] = _pos(node)
        if isinstance(node, yaml.ScalarNode):
            if node.tag not in _SCALAR_TAGS:
                doc.suppressed.add(path)
                doc.add(
                    "AG111",
                    f"YAML tag '{node.tag}' is not allowed",
                    path,
                    hints=("remove the tag; graph files use plain YAML only",),
                )
            if not node.style:  # None from PyYAML, "" from libyaml: plain (unquoted)
                doc.plain.add(path)
            return self.substitute(node.value, path, node)
        if id(node) in self.active:
            doc.add("AG111", "recursive alias: a node contains itself", path)
            return None
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                if node.tag != _STD + "seq":
                    doc.suppressed.add(path)
                    doc.add("AG111", f"YAML tag '{node.tag}' is not allowed", path)
                return [self.walk(item, (*path, i)) for i, item in enumerate(node.value)]
            assert isinstance(node, yaml.MappingNode)
            if node.tag != _STD + "map":
                doc.suppressed.add(path)
                doc.add("AG111", f"YAML tag '{node.tag}' is not allowed", path)
            return self.mapping(node, path)
        finally:
            self.active.discard(id(node))

    def mapping(self, node: yaml.MappingNode, path: PathKey) -> dict[str, Any]:
        doc = self.doc
        out: dict[str, Any] = {}
        merges: list[yaml.Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _STD + "merge":
                merges.append(value_node)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                doc.positions.setdefault(path, _pos(node))
                doc.key_positions[(*path, "?")] = _pos(key_node)
                doc.add("AG111", "mapping keys must be plain words", (*path, "?"), key=True)
                continue
            key = key_node.value
            child = (*path, key)
            if key in out:
                first = doc.key_positions[child]
                doc.findings.append(
                    Finding(
                        code="AG105",
                        message=f"duplicate key '{key}' (first defined on line {first.line})",
                        file=doc.file,
                        pos=_pos(key_node),
                        path=json_path(child),
                        hints=("YAML keeps only one of them; remove or rename one",),
                        source_line=doc.lines[key_node.start_mark.line]
                        if key_node.start_mark.line < len(doc.lines)
                        else None,
                        secrets=frozenset(doc.secrets),
                    )
                )
                continue
            doc.key_positions[child] = _pos(key_node)
            out[key] = self.walk(value_node, child)
        for merge in merges:
            sources = merge.value if isinstance(merge, yaml.SequenceNode) else [merge]
            for src in sources:
                if not isinstance(src, yaml.MappingNode):
                    doc.add("AG111", "'<<' can only merge mappings", path)
                    continue
                merged = self.mapping(src, path)
                for key, value in merged.items():
                    out.setdefault(key, value)
        return out


def _narrow(finding: Finding, node: yaml.ScalarNode | None, start: int, end: int) -> Finding:
    """Point a finding at `value[start:end]` when the scalar sits on one line as written."""
    pos = finding.pos
    if node is None or pos is None or pos.line != pos.end_line:
        return finding
    quote = 1 if node.style in ("'", '"') else 0
    width = pos.end_col - pos.col - 2 * quote
    if node.style not in (None, "", "'", '"') or width != len(node.value):
        return finding  # folded, escaped or block scalar: keep the whole node
    col = pos.col + quote + start
    return Finding(
        code=finding.code,
        message=finding.message,
        file=finding.file,
        pos=Pos(pos.line, col, pos.line, col + (end - start)),
        path=finding.path,
        hints=finding.hints,
        severity=finding.severity,
        source_line=finding.source_line,
        secrets=finding.secrets,
    )


def compose_document(text: str, *, file: str, env: Mapping[str, str]) -> Document:
    """Compose `text` into a `Document`; syntax errors become an AG100 finding.

    Args:
        text: the YAML source.
        file: the name used in findings.
        env: where `${NAME}` values come from (usually `os.environ`).
    """
    doc = Document(file=file, lines=text.splitlines())
    try:
        node = yaml.compose(text, Loader=_Loader)
    except RecursionError:  # the pure-Python composer on deep nesting
        doc.findings.append(Finding("AG111", "values are nested too deeply", file))
        return doc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or "invalid YAML"
        if exc.context:
            problem = f"{exc.context}; {problem}"
        pos = Pos(mark.line + 1, mark.column + 1, mark.line + 1, mark.column + 2) if mark else None
        src = doc.lines[mark.line] if mark and mark.line < len(doc.lines) else None
        doc.findings.append(
            Finding(
                code="AG100",
                message=f"YAML syntax error: {problem}",
                file=file,
                pos=pos,
                hints=_syntax_hints(problem),
                source_line=src,
            )
        )
        return doc
    except yaml.YAMLError as exc:
        doc.findings.append(Finding("AG100", f"YAML syntax error: {exc}", file))
        return doc
    if node is None:
        doc.data = None
        return doc
    try:
        doc.data = _Walker(doc, env).walk(node, ())
    except _TooBig:
        doc.data = None
        return doc
    except RecursionError:  # pragma: no cover - MAX_DEPTH keeps the walk shallow
        doc.add("AG111", "values are nested too deeply", ())
        doc.data = None
        return doc
    doc.secrets.update(secret_values(doc.env_values, _declared_secrets(doc.data)))
    return doc


def _declared_secrets(data: Any) -> frozenset[str]:
    """The variable names a graph lists under `secrets:` (read before the schema pass)."""
    listed = data.get("secrets") if isinstance(data, dict) else None
    if not isinstance(listed, list):
        return frozenset()
    return frozenset(v for v in listed if isinstance(v, str))


def _syntax_hints(problem: str) -> tuple[str, ...]:
    if "tab" in problem:
        return ("indent with spaces, not tabs",)
    if "mapping values are not allowed" in problem:
        return ("quote values that contain ': ' (e.g. message: \"Note: closed\")",)
    if "could not find expected ':'" in problem:
        return ("every entry of a mapping is 'key: value'",)
    return ()
