"""Each worker in namespaces of its own, so nothing of one worker is visible to, or outlives into, the next.

Inside the sandbox the template is root with a few capabilities (see ``sandbox.sandbox_command``).
For every worker it forks a small *init* process in a new PID namespace; the init, still privileged,
gives itself new IPC, mount, network and UTS namespaces, and in them:

- a fresh ``/proc`` (the worker sees only its own processes: it cannot see or signal another's),
- a small fresh tmpfs on ``/tmp`` and on ``/dev/shm`` (its working folder: files it leaves die with it),
- System V and POSIX IPC limits far below the worker's memory limit (shared memory is not part of
  the address space the memory limit counts, until it is attached),

then forks the worker proper, which drops to its own user (and so loses every capability) before it
runs any student code. The init only waits: when the worker ends, the init reports how it ended and
exits, and the kernel kills every process left in the namespace; its IPC objects, its ``/tmp`` and its
``/dev/shm`` go with the namespaces. Killing the init (the template's ``reap``) does the same at once.

Without these privileges (no sandbox, or a sandbox without them) a worker is a plain forked process
in its own process group, reaped by killing that group and every process of its user.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import signal
import sys
from typing import NoReturn

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 0x1, 0x2, 0x4, 0x8, 0x20
MS_BIND, MS_MOVE, MS_REC, MS_PRIVATE = 0x1000, 0x2000, 0x4000, 0x40000
PR_SET_PDEATHSIG = 1
SANDBOX_FLAG = "DLKIT_WORKER_NAMESPACES"  # set by the sandbox for the template; never seen by a worker
STATUS_GRACE_SECONDS = 2.0  # a worker whose channel closed has ended: wait this long for its status
PAGE = os.sysconf("SC_PAGE_SIZE")
_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    encode = (lambda text: text.encode() if text is not None else None)
    _check(_libc.mount(encode(source), encode(target), encode(fstype), ctypes.c_ulong(flags), encode(data)),
           f"mount {target}")


def ipc_limits(shm_bytes: int) -> dict[str, str]:
    """The IPC sysctls of a worker's own IPC namespace: everything small, shared memory capped."""
    return {"kernel/shmmax": str(shm_bytes), "kernel/shmall": str(max(shm_bytes // PAGE, 1)),
            "kernel/shmmni": "32", "kernel/shm_rmid_forced": "1",
            "kernel/msgmni": "16", "kernel/msgmax": "8192", "kernel/msgmnb": "65536",
            "kernel/sem": "64 1024 32 16",  # SEMMSL SEMMNS SEMOPM SEMMNI
            "fs/mqueue/queues_max": "16", "fs/mqueue/msg_max": "10", "fs/mqueue/msgsize_max": "8192"}


class Isolation:
    """How the template forks and reaps workers: in namespaces of their own when it can."""

    def __init__(self) -> None:
        self.enabled = os.environ.pop(SANDBOX_FLAG, "") == "1"
        self.own_pid_namespace = os.open("/proc/self/ns/pid", os.O_RDONLY) if self.enabled else -1
        self.status_pipes: dict[int, int] = {}  # init pid -> read end of the pipe its worker's status comes on

    # -- in the template ------------------------------------------------------------------------------
    def fork(self, limits: dict[str, int]) -> int:
        """Fork a worker. Returns its pid in the template (for ``reap``); returns 0 in the worker itself,
        already in its namespaces, still root: the caller drops to the worker's user next."""
        if not self.enabled:
            pid = os.fork()
            if pid == 0:
                with contextlib.suppress(OSError):
                    os.setpgid(0, 0)  # a process group of its own, killed as a whole by ``reap``
            return pid
        status_read, status_write = os.pipe()
        try:
            _check(_libc.unshare(CLONE_NEWPID), "unshare")  # the next child is the init of a new namespace
        except OSError as exc:
            os.close(status_read)
            os.close(status_write)
            self._give_up(exc)
            return self.fork(limits)
        try:
            pid = os.fork()
        except BaseException:
            self._restore_pid_namespace()
            os.close(status_read)
            os.close(status_write)
            raise
        if pid == 0:
            os.close(status_read)
            return self._become_init(limits, status_write)
        self._restore_pid_namespace()  # the template's later children go back to its own namespace
        os.close(status_write)
        self.status_pipes[pid] = status_read
        return pid

    def _restore_pid_namespace(self) -> None:
        if _libc.setns(self.own_pid_namespace, CLONE_NEWPID) != 0:
            # every later fork would land in a dead namespace: end, the grader starts a fresh template
            print("worker template: cannot return to its PID namespace; exiting", file=sys.stderr, flush=True)
            os._exit(70)

    def _give_up(self, exc: OSError) -> None:
        print(f"worker template: no namespaces for workers ({exc}); workers run as plain processes",
              file=sys.stderr, flush=True)
        self.enabled = False

    def reap(self, pid: int, uid: int, ended: bool = False) -> int | None:
        """Kill the worker and everything it started; return how the worker ended (negative: killed by
        that signal), or None if unknown. ``ended``: its channel closed, so it has ended or is ending."""
        status_read = self.status_pipes.pop(pid, None)
        if status_read is None:  # a plain process: its group, then anything of its user that left it
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
            kill_user(uid)
            return _wait(pid)
        try:
            if ended:
                _readable(status_read, STATUS_GRACE_SECONDS)
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)  # the namespace's init: the kernel kills all the rest
            _wait(pid)  # returns once every process of the namespace is gone
            kill_user(uid)  # nothing should be left; make sure
            reported = _read_status(status_read)
        finally:
            os.close(status_read)
        # unreported: the init was killed while the worker still ran (or the init failed: its log says)
        return reported

    # -- in the new namespace's init -----------------------------------------------------------------
    def _become_init(self, limits: dict[str, int], status_write: int) -> int:
        for inherited in (self.own_pid_namespace, *self.status_pipes.values()):  # other workers' business
            os.close(inherited)
        self.status_pipes.clear()
        try:
            for handled in (signal.SIGCHLD, signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                signal.signal(handled, signal.SIG_DFL)
            _libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)  # the template gone: all of this goes
            _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWUTS), "unshare")
            self._private_files(limits)
            for name, value in ipc_limits(int(limits.get("shm_bytes", 16 * 2**20))).items():
                try:
                    with open(f"/proc/sys/{name}", "w") as sysctl:
                        sysctl.write(value)
                except OSError:
                    if os.getuid() == 0:
                        raise
                    # a sandbox in a user namespace (a grader not run as root) may not set them: the
                    # worker's IPC namespace still holds, and dies with it
            worker = os.fork()
        except BaseException as exc:  # noqa: BLE001 - no isolation, no worker: fail closed
            print(f"worker init: could not isolate the worker: {exc!r}", file=sys.stderr, flush=True)
            os._exit(71)
        if worker == 0:
            os.close(status_write)
            return 0
        _wait_for(worker, status_write)

    @staticmethod
    def _private_files(limits: dict[str, int]) -> None:
        _mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing mounted here propagates anywhere
        try:
            _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        except OSError as exc:  # a sandbox in a user namespace may refuse; the PID namespace still holds
            print(f"worker init: no private /proc ({exc})", file=sys.stderr, flush=True)
        # The fresh /tmp is built on /dev/shm first, with the sandbox's read-only mounts that lie under
        # /tmp (a kit or a runtime installed there) bound into it again, then moved onto /tmp.
        fresh = f"size={int(limits.get('tmp_bytes', 16 * 2**20))},nr_inodes=4096,mode=1777"
        _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, fresh)
        for mount_point in _mounts_under("/tmp"):
            target = "/dev/shm" + mount_point[len("/tmp"):]
            if os.path.isdir(mount_point):
                os.makedirs(target, mode=0o755, exist_ok=True)
            else:
                os.makedirs(os.path.dirname(target), mode=0o755, exist_ok=True)
                open(target, "a").close()
            _mount(mount_point, target, None, MS_BIND)
            _mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
        _mount("/dev/shm", "/tmp", None, MS_MOVE)
        shm = f"size={int(limits.get('shm_bytes', 16 * 2**20))},nr_inodes=4096,mode=1777"
        _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, shm)
        os.chdir("/tmp")  # the worker's working folder is its own /tmp, not the template's


def _mounts_under(folder: str) -> list[str]:
    """The mount points strictly below ``folder``, parents first (as /proc/self/mountinfo lists them)."""
    points = []
    with open("/proc/self/mountinfo") as mountinfo:
        for line in mountinfo:
            point = line.split()[4].encode().decode("unicode_escape")  # spaces come as \040
            if point.startswith(folder + "/"):
                points.append(point)
    return points


def _wait_for(worker: int, status_write: int) -> NoReturn:
    """The init's whole life: collect every process of the namespace until the worker ends, report
    the worker's wait status, and exit (which ends every process left in the namespace)."""
    os.closerange(3, status_write)  # keep no socket or pipe of the worker open: its peers see it end
    os.closerange(status_write + 1, os.sysconf("SC_OPEN_MAX"))
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            os._exit(0)
        if pid == worker:
            with contextlib.suppress(OSError):
                os.write(status_write, str(status).encode())
            os._exit(0)


def _wait(pid: int) -> int | None:
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:  # collected already
        return None
    return os.waitstatus_to_exitcode(status)


def _readable(fd: int, timeout: float) -> bool:
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(timeout * 1000))


def _read_status(status_read: int) -> int | None:
    try:
        text = os.read(status_read, 64).decode() if _readable(status_read, 0) else ""
        return os.waitstatus_to_exitcode(int(text)) if text else None
    except (OSError, ValueError):
        return None


def kill_user(uid: int) -> None:
    """SIGKILL every process of ``uid`` this process can see, until none is left."""
    if uid <= 0:
        return
    for _ in range(100):
        victims = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    if os.stat(f"/proc/{entry}").st_uid == uid:
                        victims.append(int(entry))
                except OSError:
                    continue
        if not victims:
            return
        for pid in victims:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
