"""``dlkit cluster``: a Dask scheduler and N single-threaded grading workers on this machine, to try
``dlkit grade --scheduler``. They run until Ctrl-C (or SIGTERM), then stop together.

The same commands start a real cluster, one per machine (see README, "Grading on a cluster")::

    dask scheduler --port 8786
    dask worker tcp://SCHEDULER:8786 --nthreads 1 --preload autograder.cluster.plugin
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

READY_SECONDS = 180.0  # a worker is ready once its template and the references are warm
PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the folder that holds autograder/


def scheduler_command(host: str, port: int) -> list[str]:
    return [sys.executable, "-m", "dask", "scheduler", "--host", host, "--port", str(port), "--no-dashboard"]


def worker_command(address: str, allow_unsandboxed: bool = False, name: str | None = None) -> list[str]:
    command = [sys.executable, "-m", "dask", "worker", address, "--nthreads", "1", "--no-dashboard",
               "--preload", "autograder.cluster.plugin"]
    if allow_unsandboxed:
        command += ["--preload-argv", "--allow-unsandboxed"]
    return command + (["--name", name] if name else [])


def kit_environment() -> dict[str, str]:
    """The scheduler and workers import this very kit (the grader version must match the client's)."""
    path = os.pathsep.join(p for p in (str(PACKAGE_ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return dict(os.environ, PYTHONPATH=path)


def start(workers: int, host: str = "127.0.0.1", port: int = 8786, allow_unsandboxed: bool = False,
          log: Path | None = None) -> tuple[str, list[subprocess.Popen]]:
    """Start the scheduler and ``workers`` workers; return the address and the processes (scheduler first)."""
    address = f"tcp://{host}:{port}"
    output = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - the children keep it open
    processes = [subprocess.Popen(scheduler_command(host, port), env=kit_environment(), stdout=output,
                                  stderr=subprocess.STDOUT, start_new_session=True)]
    for n in range(workers):
        processes.append(subprocess.Popen(worker_command(address, allow_unsandboxed, f"dlkit-{n}"),
                                          env=kit_environment(), stdout=output, stderr=subprocess.STDOUT,
                                          start_new_session=True))
    return address, processes


def wait_for_workers(address: str, count: int, processes: list[subprocess.Popen],
                     seconds: float = READY_SECONDS) -> None:
    """Until ``count`` workers have joined (each joins once its plugin is warm)."""
    from distributed import Client

    deadline = time.monotonic() + seconds
    with Client(address, timeout=seconds, set_as_default=False) as client:
        while len(client.scheduler_info()["workers"]) < count:
            if any(p.poll() is not None for p in processes):
                raise RuntimeError("a process of the cluster stopped while starting (see its log)")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the workers did not all join within {seconds:g} s")
            time.sleep(0.5)


def stop(processes: list[subprocess.Popen]) -> None:
    """Workers first (their templates die with them), then the scheduler."""
    for process in reversed(processes):
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in reversed(processes):
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def run_cluster(workers: int, host: str, port: int, allow_unsandboxed: bool) -> int:
    if workers < 1:
        print("dlkit cluster: --workers must be at least 1", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    address, processes = start(workers, host, port, allow_unsandboxed)
    try:
        print(f"starting a Dask scheduler at {address} and {workers} grading worker(s)...", flush=True)
        wait_for_workers(address, workers, processes)
        print(f"ready: dlkit grade SUBMISSION... --out DIR --scheduler {address}\n(Ctrl-C stops the cluster)",
              flush=True)
        while all(p.poll() is None for p in processes):
            time.sleep(1.0)
        print("dlkit cluster: a process of the cluster stopped; stopping the others", file=sys.stderr)
        return 1
    except (RuntimeError, TimeoutError, OSError) as exc:
        print(f"dlkit cluster: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop(processes)
