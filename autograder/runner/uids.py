"""A user id for every worker, never handed out twice on this machine (until the counter wraps).

Every worker runs as a user of its own, so that a per-user limit (processes, message queues) or a
``kill -9 -1`` of one worker can never reach another, whichever grader process started it. The ids
come from one counter shared by every grader process of the machine: a file in a folder only root
may write (``/run/dlkit``, emptied at boot, when no worker survives anyway), read and advanced under
an exclusive ``flock``. The ids lie in ``[FIRST, FIRST + COUNT)``, far from the system's users and
from the ranges that ``/etc/subuid`` usually hands to containers (100000 and up, 65536 at a time), and
below 2**31, which some tools read as negative. A counter file that is missing or unreadable starts
again at a random place in the range, so two fresh starts are unlikely to meet.

Only a grader running as root hands out ids: otherwise the sandbox's template is not root and
workers cannot change user (they still get namespaces of their own), and ``next_uid`` returns 0.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import stat
from pathlib import Path

FIRST = 1_000_000_000
COUNT = 1_000_000_000
STATE = Path("/run/dlkit/worker-uid")


def next_uid(state: Path = STATE) -> int:
    """A fresh worker uid (0 when this process cannot give workers users of their own)."""
    if os.geteuid() != 0:
        return 0
    try:
        fd = _open_counter(state)
    except OSError as exc:
        return _fallback_uid(exc)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        n = int(text) if text.isdigit() else secrets.randbelow(COUNT)
        os.pwrite(fd, f"{(n + 1) % COUNT:<20}\n".encode(), 0)
        return FIRST + n % COUNT
    finally:
        os.close(fd)  # releases the lock


def _open_counter(state: Path) -> int:
    folder = state.parent
    with contextlib.suppress(FileExistsError):
        folder.mkdir(mode=0o700, parents=True)
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != 0 or info.st_mode & 0o022:
        raise PermissionError(f"{folder} must be a folder owned by root that only root may write")
    return os.open(state, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)


_local = {"next": 0, "warned": False}


def _fallback_uid(exc: OSError) -> int:
    """Without the shared counter: ids from this process's pid and its own count (unique among
    live grader processes as long as each starts fewer than 4096 workers)."""
    if not _local["warned"]:
        _local["warned"] = True
        print(f"WARNING: no shared worker-uid counter ({exc}); using per-process worker uids")
    _local["next"] += 1
    return FIRST + ((os.getpid() << 12) + _local["next"] % 4096) % COUNT
