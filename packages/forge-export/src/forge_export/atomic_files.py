"""Write a file so that readers see the old one or the whole new one, never a half.

Used by every forge command that writes a single output file (judgements, review queues,
evaluation reports). Folders (exports, converted models) have their own temp-folder + rename.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Literal


def _umask() -> int:
    try:  # Linux: read it without changing it (os.umask sets it, racing other threads)
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def atomic_output(
    path: str | os.PathLike[str], mode: Literal["w", "wb"] = "w"
) -> Iterator[IO[Any]]:
    """Open a temporary file next to ``path``; rename it onto ``path`` when the block succeeds.

    The file gets the mode an ordinary ``open()`` would give it (the replaced file's mode, or
    0666 less the umask). If the block raises (or the process is killed), ``path`` is
    untouched and the temporary file is removed (or, after a kill, left as a hidden ``.NAME.*.tmp`` file).

    Example:
        >>> import tempfile, pathlib
        >>> target = pathlib.Path(tempfile.mkdtemp()) / "rows.jsonl"
        >>> with atomic_output(target) as fh:
        ...     _ = fh.write('{"a": 1}\\n')
        >>> target.read_text()
        '{"a": 1}\\n'
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        # mkstemp makes 0600 files; give the file the mode an ordinary open() would: the
        # replaced file's mode, or 0666 less the umask
        try:
            mode_bits = target.stat().st_mode & 0o7777
        except OSError:
            mode_bits = 0o666 & ~_umask()
        os.chmod(tmp, mode_bits)
        encoding = None if "b" in mode else "utf-8"
        with os.fdopen(fd, mode, encoding=encoding) as fh:
            yield fh
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
