"""The approval condition language: a tiny, safe expression language over tool arguments.

Grammar (precedence from low to high)::

    expr       := or_expr
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | comparison
    comparison := operand (("==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not in") operand)?
    operand    := NAME | STRING | NUMBER | "true" | "false" | "null" | list | "(" expr ")"
    list       := "[" (operand ("," operand)*)? "]"

Names are the tool's argument names. Strings use single or double quotes. Comparing
values of different kinds (a number with a string) is false rather than an error, and a
missing argument is null, so a condition never raises while a call is running. This is
parsed by us; nothing here ever reaches Python's `eval`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


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


# AST nodes are tuples: ("lit", v) ("name", n) ("list", [nodes]) ("not", n)
# ("and", a, b) ("or", a, b) ("cmp", op, a, b)
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
            return ("lit", tok.value)
        if tok.kind == "kw" and tok.text in ("true", "false", "null"):
            self.take()
            return ("lit", {"true": True, "false": False, "null": None}[tok.text])
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
            return ("list", items)
        raise ConditionError(
            f"expected a name, a number or a quoted string but found {self._describe()}",
            tok.offset,
        )


def _compare(op: str, a: Any, b: Any) -> bool:
    if op == "==":
        return bool(a == b)
    if op == "!=":
        return bool(a != b)
    if op in ("in", "not in"):
        try:
            found = a in b if isinstance(b, (list, str)) else False
        except TypeError:
            found = False
        return found if op == "in" else not found
    numeric = (int, float)
    comparable = (
        isinstance(a, numeric)
        and isinstance(b, numeric)
        and not isinstance(a, bool)
        and not isinstance(b, bool)
    ) or (isinstance(a, str) and isinstance(b, str))
    if not comparable:
        return False
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    return bool(a >= b)


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
    return _compare(node[1], _eval(node[2], args), _eval(node[3], args))


def _truthy(value: Any) -> bool:
    return bool(value)


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
        """Evaluate against the call's arguments; never raises."""
        return _truthy(_eval(self.tree, arguments))


def parse_condition(text: str) -> Condition:
    """Parse a condition such as `time < '09:00' or time > '17:00'`.

    Raises:
        ConditionError: with the offset of the problem.
    """
    if len(text) > MAX_LENGTH:
        raise ConditionError(f"condition is longer than {MAX_LENGTH} characters", MAX_LENGTH)
    tree = _Parser(_tokenize(text)).parse()
    names: dict[str, int] = {}
    _names(tree, names)
    return Condition(source=text, tree=tree, names=names)
