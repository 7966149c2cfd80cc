"""Which `${VAR}` values are secrets, and redacting them from any value before it is written.

Not every substituted value is a secret: `${PORT}` is a port number and masking it
garbles URLs (`ws://127.0.0.1:[redacted]/`). A value is a secret when

* its variable's name says so (contains KEY, SECRET, TOKEN, PASSWORD or PASSWD, or has a
  PIN part such as `ACCESS_PIN`),
* it fills a key that holds credentials (`api_key`, `webhook_secret`, `token`, ...), or
* the graph lists the variable under `secrets: [NAME, ...]`.

`Spec.secrets` is the resulting set of values; `redact_text` and `redact_values` apply it
(to a string, or to a JSON-like value before it is serialised, so escaped forms such as
`\\"` or `\\u00fc` in the output cannot slip past a text replacement).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable
from typing import Any

__all__ = [
    "MASK",
    "MIN_SECRET_LEN",
    "is_secret_key",
    "is_secret_name",
    "map_strings",
    "redact_text",
    "redact_values",
    "secret_values",
]

MASK = "***"
#: Shorter values are not masked (no credential is two characters; "10" is not a secret).
MIN_SECRET_LEN = 3
_SECRET_WORDS = re.compile(r"KEY|SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL", re.IGNORECASE)
_PIN_PART = re.compile(r"(^|_)PIN(_|CODE|$)", re.IGNORECASE)


def is_secret_name(name: str) -> bool:
    """Whether an environment variable's name marks its value as a secret."""
    return bool(_SECRET_WORDS.search(name) or _PIN_PART.search(name))


def is_secret_key(path: tuple[str | int, ...]) -> bool:
    """Whether the graph key a value fills holds a credential (`model.api_key`, ...)."""
    keys = [p for p in path if isinstance(p, str)]
    return bool(keys) and is_secret_name(keys[-1])


def secret_values(
    env_values: Iterable[tuple[str, str, tuple[str | int, ...]]], declared: Collection[str] = ()
) -> set[str]:
    """The secret values among `(variable, value, path)` substitutions."""
    out: set[str] = set()
    for name, value, path in env_values:
        if len(value) < MIN_SECRET_LEN:
            continue
        if name in declared or is_secret_name(name) or is_secret_key(path):
            out.add(value)
    return out


def redact_text(text: str, secrets: Collection[str]) -> str:
    """`text` with every secret replaced by `***` (longest first)."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, MASK)
    return text


def map_strings(value: Any, fn: Callable[[str], str]) -> Any:
    """A copy of a JSON-like value with `fn` applied to every string, dict keys included
    (lists and tuples both become lists: they serialise alike)."""
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, dict):
        return {map_strings(k, fn): map_strings(v, fn) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [map_strings(v, fn) for v in value]
    return value


def redact_values(value: Any, secrets: Collection[str]) -> Any:
    """A copy of a JSON-like value (dicts, lists, strings, ...) with secrets masked in every
    string, keys included. Redact before serialising, never after."""
    if not secrets:
        return value
    return map_strings(value, lambda text: redact_text(text, secrets))
    if isinstance(value, str):
        return redact_text(value, secrets)
    if isinstance(value, dict):
        return {redact_values(k, secrets): redact_values(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_values(v, secrets) for v in value]
    if isinstance(value, tuple):
        return tuple(redact_values(v, secrets) for v in value)
    return value
