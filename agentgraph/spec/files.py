"""Reading the files a graph names: regular files only, bounded in size, inside allowed folders.

A graph file, its prompt files and conversation test files are read through
`read_text_file`: opened without blocking (a FIFO never hangs us), checked to be a
regular file on the open descriptor (no `/dev/zero`, no race between check and read), and
read up to a size limit. `inside` decides whether a prompt file may be read at all: under
the graph's folder, or a folder the graph lists, never the kernel's pseudo-files.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

__all__ = ["FileProblem", "inside", "read_text_file"]

_PSEUDO = ("/proc", "/sys", "/dev")


class FileProblem(ValueError):
    """Why a file cannot be read, in words for a finding."""


def read_text_file(path: str | os.PathLike[str], *, limit: int) -> str:
    """The UTF-8 text of a regular file of at most `limit` bytes.

    Raises:
        FileProblem: missing, unreadable, not a regular file, too large, not UTF-8.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise FileProblem(exc.strerror or str(exc)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            raise FileProblem(f"it is {kind}")
        if info.st_size > limit:
            raise FileProblem(f"it is larger than {_size(limit)}")
        chunks: list[bytes] = []
        total = 0
        while True:  # the size can change after fstat; never read past the limit
            chunk = os.read(fd, min(65536, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise FileProblem(f"it is larger than {_size(limit)}")
        data = b"".join(chunks)
    except OSError as exc:
        raise FileProblem(exc.strerror or str(exc)) from None
    finally:
        os.close(fd)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileProblem(f"it is not UTF-8 text (byte {exc.start})") from None


def _size(limit: int) -> str:
    return f"{limit // 1_000_000} MB" if limit >= 1_000_000 else f"{limit // 1000} kB"


def inside(path: Path, roots: Iterable[Path]) -> bool:
    """Whether `path` (symlinks resolved) lies under one of `roots` and not in /proc etc."""
    real = Path(os.path.realpath(path))
    if any(real == Path(p) or Path(p) in real.parents for p in _PSEUDO):
        return False
    for root in roots:
        base = Path(os.path.realpath(root))
        if real == base or base in real.parents:
            return True
    return False
