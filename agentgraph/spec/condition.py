"""The approval condition language: a tiny, safe expression language over tool arguments.

Grammar (precedence from low to high)::

    expr       := or_expr
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | comparison
    comparison := operand (("==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not in") operand)?
    operand    := NAME | STRING | NUMBER | "true" | "false" | "null" | list | "(" expr ")"
    list       := "[" (operand ("," operand)*)? "]"

Names are the tool's argument names. Strings use single or double quotes. This is parsed
by us; nothing here ever reaches Python's `eval`.

Comparisons are typed (see `values.py`). Given the tool's parameter JSON Schema,
`parse_condition` gives every comparison a kind: the parameter's kind when its schema says
number, integer, boolean or a string `format` of time/date/date-time, else the literal's
kind (`1000` a number, `'17:00'` a time, `'2026-12-03'` a date, other strings text;
text compares without regard to case or surrounding spaces).
Literals are converted once, when parsing (a literal that is not of its parameter's kind is
a `ConditionError`); arguments are converted on every call. An argument that cannot be
read as its comparison's kind (`"lots"` for a number, a missing argument compared with
`<`) makes the whole condition true: the approval is asked rather than skipped. A
condition never raises while a call is running.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agentgraph.spec.values import (
    Uninterpretable,
    convert,
    literal_kind,
    order_untyped,
    schema_kind,
)

__all__ = ["Condition", "ConditionError", "parse_condition"]

_TOKEN_RE = re.compile(
    r"""\s*(?:
        (?P<number>-?\d+(?:\.\d+)?)
      | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
      | (?P<op>==|!=|<=|>=|<|>|\(|\)|\[|\]|,)
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)
_KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false", "null"})
MAX_LENGTH = 1000
MAX_DEPTH = 50


class ConditionError(ValueError):
    """A syntax error; `offset` is the 0-based character position in the condition."""

    def __init__(self, message: str, offset: int, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.offset = offset
        self.hint = hint


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # number, string, op, name, kw, end
    text: str
    offset: int
    value: Any = None


def _tokenize(text: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN_RE.match(text, pos)
        if m is None or m.end() == pos:
            start = pos + (len(text[pos:]) - len(text[pos:].lstrip()))
            if text[start] in "'\"":
                raise ConditionError("unterminated string", start)
            if text[start] == "=":
                raise ConditionError("use '==' to compare", start)
            raise ConditionError(f"unexpected character {text[start]!r}", start)
        kind = m.lastgroup or ""
        raw = m.group(kind)
        start = m.start(kind)
        value: Any = None
        if kind == "number":
            value = float(raw) if "." in raw else int(raw)
        elif kind == "string":
            value = re.sub(r"\\(.)", r"\1", raw[1:-1])
        elif kind == "name" and raw in _KEYWORDS:
            kind = "kw"
        tokens.append(_Tok(kind, raw, start, value))
        pos = m.end()
    tokens.append(_Tok("end", "", len(text)))
    return tokens


# AST nodes are tuples: ("lit", v, offset) ("name", n, offset) ("list", [nodes], offset)
# ("not", n) ("and", a, b) ("or", a, b) ("cmp", op, a, b) -> typed: ("cmp", op, a, b, kind)
Node = tuple[Any, ...]


class _Parser:
    def __init__(self, tokens: list[_Tok]) -> None:
        self.toks = tokens
        self.i = 0
        self.depth = 0

    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def expect(self, text: str) -> None:
        if self.tok.text != text or self.tok.kind not in ("op", "kw"):
            raise ConditionError(f"expected '{text}' but found {self._describe()}", self.tok.offset)
        self.take()

    def _describe(self) -> str:
        return "the end" if self.tok.kind == "end" else f"'{self.tok.text}'"

    def parse(self) -> Node:
        if self.tok.kind == "end":
            raise ConditionError("empty condition", 0)
        node = self.or_expr()
        if self.tok.kind != "end":
            raise ConditionError(
                f"unexpected {self._describe()}; join conditions with 'and' or 'or'",
                self.tok.offset,
            )
        return node

    def or_expr(self) -> Node:
        node = self.and_expr()
        while self.tok.kind == "kw" and self.tok.text == "or":
            self.take()
            node = ("or", node, self.and_expr())
        return node

    def and_expr(self) -> Node:
        node = self.not_expr()
        while self.tok.kind == "kw" and self.tok.text == "and":
            self.take()
            node = ("and", node, self.not_expr())
        return node

    def not_expr(self) -> Node:
        if self.tok.kind == "kw" and self.tok.text == "not":
            self.take()
            return ("not", self.nested(self.not_expr))
        return self.comparison()

    def nested(self, fn: Any) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ConditionError("condition is nested too deeply", self.tok.offset)
        try:
            result: Node = fn()
            return result
        finally:
            self.depth -= 1

    def comparison(self) -> Node:
        left = self.operand()
        tok = self.tok
        if tok.kind == "op" and tok.text in ("==", "!=", "<", "<=", ">", ">="):
            self.take()
            return ("cmp", tok.text, left, self.operand())
        if tok.kind == "kw" and tok.text == "in":
            self.take()
            return ("cmp", "in", left, self.operand())
        if tok.kind == "kw" and tok.text == "not" and self.toks[self.i + 1].text == "in":
            self.take()
            self.take()
            return ("cmp", "not in", left, self.operand())
        return left

    def operand(self) -> Node:
        tok = self.tok
        if tok.kind in ("number", "string"):
            self.take()
            return ("lit", tok.value, tok.offset)
        if tok.kind == "kw" and tok.text in ("true", "false", "null"):
            self.take()
            return ("lit", {"true": True, "false": False, "null": None}[tok.text], tok.offset)
        if tok.kind == "name":
            self.take()
            return ("name", tok.text, tok.offset)
        if tok.kind == "op" and tok.text == "(":
            self.take()
            node = self.nested(self.or_expr)
            self.expect(")")
            return node
        if tok.kind == "op" and tok.text == "[":
            self.take()
            items: list[Node] = []
            while not (self.tok.kind == "op" and self.tok.text == "]"):
                items.append(self.operand())
                if self.tok.kind == "op" and self.tok.text == ",":
                    self.take()
                elif not (self.tok.kind == "op" and self.tok.text == "]"):
                    raise ConditionError(
                        f"expected ',' or ']' but found {self._describe()}", self.tok.offset
                    )
            self.take()
            return ("list", items, tok.offset)
        raise ConditionError(
            f"expected a name, a number or a quoted string but found {self._describe()}",
            tok.offset,
        )


_ORDER = ("<", "<=", ">", ">=")


def _compare(op: str, a: Any, b: Any, kind: str) -> bool:
    """Compare two values already converted to `kind` (raises `Uninterpretable`)."""
    if op in ("in", "not in"):
        if isinstance(b, list):
            found = any(_equal(a, item, kind) for item in b)
        elif isinstance(b, str) and isinstance(a, str):
            found = a in b
        else:
            raise Uninterpretable("'in' needs a list or text on its right")
        return found if op == "in" else not found
    if op == "==":
        return _equal(a, b, kind)
    if op == "!=":
        return not _equal(a, b, kind)
    if kind == "raw":  # two names of no declared kind: read both the same way
        a, b = order_untyped(a, b)
    try:
        if op == "<":
            return bool(a < b)
        if op == "<=":
            return bool(a <= b)
        if op == ">":
            return bool(a > b)
        return bool(a >= b)
    except TypeError as exc:  # e.g. a naive and an aware datetime
        raise Uninterpretable(str(exc)) from exc


def _equal(a: Any, b: Any, kind: str) -> bool:
    if kind == "raw" and (isinstance(a, bool) != isinstance(b, bool)):
        return False  # 1 == true is not what a graph author means
    try:
        return bool(a == b)
    except TypeError as exc:  # pragma: no cover - == does not raise for our values
        raise Uninterpretable(str(exc)) from exc


def _value(node: Node, args: Mapping[str, Any], kind: str) -> Any:
    """An operand converted to `kind`; literals were converted when parsing."""
    if node[0] == "name":
        value = args.get(node[1])
        if value is None and kind != "raw":
            raise Uninterpretable(f"'{node[1]}' has no value")
        return convert(kind, value)
    if node[0] == "list":
        return [_value(item, args, kind) for item in node[1]]
    if node[0] == "lit":
        return node[1]
    return _eval(node, args)


def _eval(node: Node, args: Mapping[str, Any]) -> Any:
    kind = node[0]
    if kind == "lit":
        return node[1]
    if kind == "name":
        return args.get(node[1])
    if kind == "list":
        return [_eval(item, args) for item in node[1]]
    if kind == "not":
        return not _truthy(_eval(node[1], args))
    if kind == "and":
        return _truthy(_eval(node[1], args)) and _truthy(_eval(node[2], args))
    if kind == "or":
        return _truthy(_eval(node[1], args)) or _truthy(_eval(node[2], args))
    assert kind == "cmp", node
    op, left, right, ckind = node[1], node[2], node[3], node[4]
    if op in ("in", "not in"):
        container = _value(right, args, ckind if right[0] == "list" else "raw")
        item_kind = ckind if right[0] == "list" else "raw"
        return _compare(op, _value(left, args, item_kind), container, ckind)
    return _compare(op, _value(left, args, ckind), _value(right, args, ckind), ckind)


def _truthy(value: Any) -> bool:
    return bool(value)


_SPECIFIC = frozenset({"number", "boolean", "time", "date", "datetime"})
_KIND_WORDS = {
    "number": "a number",
    "boolean": "true or false",
    "time": "a time such as '17:00'",
    "date": "a date such as '2026-12-03'",
    "datetime": "a date and time such as '2026-12-03T17:00'",
    "text": "text",
}


class _Typer:
    """Gives every comparison its kind and converts its literals (see the module doc)."""

    def __init__(self, kinds: Mapping[str, str | None]) -> None:
        self.kinds = kinds

    def operand_kind(self, node: Node) -> str | None:
        if node[0] == "name":
            return self.kinds.get(node[1])
        if node[0] == "lit":
            return literal_kind(node[1])
        if node[0] == "list":
            found = {literal_kind(i[1]) if i[0] == "lit" else None for i in node[1]}
            return found.pop() if len(found) == 1 else None
        return None

    def decide(self, op: str, left: Node, right: Node) -> str:
        if any(n[0] == "lit" and n[1] is None for n in (left, right)):
            return "raw"  # x == null: presence, not a value
        if op in ("in", "not in") and right[0] not in ("list", "name"):
            return "raw"
        if op in ("in", "not in") and right[0] == "name":
            return "raw"  # text containment
        names = [n for n in (left, right) if n[0] == "name"]
        for name in names:
            kind = self.kinds.get(name[1])
            if kind in _SPECIFIC:
                assert kind is not None
                return kind
        if not names:
            return "raw"
        others = [n for n in (left, right) if n[0] != "name"]
        if not others:
            return "raw"
        guess = self.operand_kind(others[0])
        return guess if guess in (*_SPECIFIC, "text") else "raw"

    def literal(self, node: Node, kind: str, about: str) -> Node:
        if node[0] == "list":
            return ("list", [self.literal(i, kind, about) for i in node[1]], node[2])
        if node[0] != "lit" or kind == "raw":
            return node
        try:
            return ("lit", convert(kind, node[1]), node[2])
        except Uninterpretable:
            raise ConditionError(
                f"{node[1]!r} is not {_KIND_WORDS.get(kind, kind)}, but {about} is compared "
                f"as {_KIND_WORDS.get(kind, kind)}",
                node[2],
            ) from None

    def type(self, node: Node) -> Node:
        kind = node[0]
        if kind == "not":
            return ("not", self.type(node[1]))
        if kind in ("and", "or"):
            return (kind, self.type(node[1]), self.type(node[2]))
        if kind != "cmp":
            return node
        op, left, right = node[1], node[2], node[3]
        ckind = self.decide(op, left, right)
        names = [n[1] for n in (left, right) if n[0] == "name"]
        about = f"'{names[0]}'" if names else "the other side"
        return (
            "cmp",
            op,
            self.literal(left, ckind, about),
            self.literal(right, ckind, about),
            ckind,
        )


def _names(node: Node, out: dict[str, int]) -> None:
    kind = node[0]
    if kind == "name":
        out.setdefault(node[1], node[2])
    elif kind == "list":
        for item in node[1]:
            _names(item, out)
    elif kind == "not":
        _names(node[1], out)
    elif kind in ("and", "or"):
        _names(node[1], out)
        _names(node[2], out)
    elif kind == "cmp":
        _names(node[2], out)
        _names(node[3], out)


@dataclass(frozen=True, slots=True)
class Condition:
    """A parsed condition; call it with the tool's arguments to decide.

    Attributes:
        source: the condition text as written.
        names: argument name -> offset of its first use (for precise findings).
    """

    source: str
    tree: Node
    names: Mapping[str, int]

    def __call__(self, arguments: Mapping[str, Any]) -> bool:
        """Evaluate against the call's arguments; never raises.

        An argument that cannot be read as its comparison's kind makes the result True
        (the rule applies: fail closed).
        """
        try:
            return _truthy(_eval(self.tree, arguments))
        except Exception:  # Uninterpretable, or anything unforeseen: ask, never skip
            return True


def parse_condition(text: str, params: Mapping[str, Any] | None = None) -> Condition:
    """Parse a condition such as `time < '09:00' or time > '17:00'`.

    Args:
        text: the condition.
        params: the tool's parameter JSON Schema (`{"type": "object", "properties":
            ...}`), which types the comparisons; None types them by their literals only.

    Raises:
        ConditionError: with the offset of the problem (syntax, or a literal that is not of
            its parameter's kind).
    """
    if len(text) > MAX_LENGTH:
        raise ConditionError(f"condition is longer than {MAX_LENGTH} characters", MAX_LENGTH)
    tree = _Parser(_tokenize(text)).parse()
    names: dict[str, int] = {}
    _names(tree, names)
    props = params.get("properties") if isinstance(params, Mapping) else None
    kinds = (
        {name: schema_kind(schema) for name, schema in props.items()}
        if isinstance(props, Mapping)
        else {}
    )
    tree = _Typer(kinds).type(tree)
    return Condition(source=text, tree=tree, names=names)
