"""The kit's one way to write a file: atomically, with the permissions the user's umask gives.

Readers (a rerun's ``already_graded``, a report, Gradescope) see the old file or the new one,
never a part: the text goes to a temporary file in the same folder, is flushed to disk, then
``os.replace`` puts it in place. ``mkstemp`` creates that file 0600 whatever the umask, so it is
given the mode an ordinary ``open()`` would (0644 under the usual umask 022) before it is
renamed; folders are made as ``mkdir`` makes them (0755 under 022).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write(path: Path, data: str | bytes) -> Path:
    """Write ``data`` (text as UTF-8, ``\\n`` line endings on every platform) to ``path``."""
    data = data.encode("utf-8") if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def partial_writes(folder: Path, name: str) -> list[Path]:
    """The temporary files of writes of ``folder/name`` that a stop or a crash cut short."""
    return sorted(folder.glob(f".{name}.*.tmp"))


def umask() -> int:
    """This process's umask. Linux shows it in /proc (reading it there leaves it alone: another
    thread creating a file meanwhile keeps the right mode); elsewhere it is set and put back."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
