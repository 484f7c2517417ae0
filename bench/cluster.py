"""Benchmark, cluster mode: `dlkit grade --scheduler` on 2 single-threaded Dask workers against
the local `dlkit grade --jobs 2`, on the same class and the same machine, in one run.

    .venv/bin/python bench/bench.py --cluster 20

  - throughput: the class graded locally (``--jobs 2``: its start-up included, as a user sees it)
    and on a warm cluster (its start-up not included: a cluster outlives a batch), alternately,
    twice each, the best of each counting; and the cost of starting the cluster itself;
  - latency: one correct submission (all 7 modules) on the warm cluster, end to end (the ``dlkit
    grade`` command, its reports included) and as one task (the client's round trip), with the
    grading itself apart; and one task per assignment resubmitted alone (its module by itself).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from submissions import plan, write_module_folders  # noqa: E402

from autograder.cluster import local  # noqa: E402
from autograder.syllabus import MODULES, REPO  # noqa: E402


def timed_grade(folders: list[Path], out: Path, *args: str) -> float:
    started = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "autograder.cli", "grade", *map(str, folders), "--out", str(out),
                          *args], capture_output=True, text=True, cwd=REPO, env=local.kit_environment())
    if run.returncode != 0:
        raise SystemExit(f"dlkit grade failed:\n{run.stderr[-3000:]}")
    return time.perf_counter() - started


def task_latency(address: str, folder: Path, repeats: int = 3) -> tuple[float, float]:
    """The best of ``repeats`` round trips of one grading task, and the grading's own time in it."""
    from distributed import Client

    from autograder.cluster.data import submission_data
    from autograder.cluster.task import grade_task
    from autograder.runner.sandbox import Limits

    files, best = submission_data(folder), (float("inf"), 0.0)
    with Client(address, set_as_default=False) as client:
        for _ in range(repeats):
            started = time.perf_counter()
            reply = client.submit(grade_task, files, asdict(Limits()), pure=False).result()
            best = min(best, (time.perf_counter() - started, reply["grade"]["execution_time"]))
    return best


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cluster_mode(size: int, repeats: int = 2) -> dict:
    """Local and cluster runs alternate ``repeats`` times, and the best of each counts: on a machine
    whose load changes, the two then see the same conditions."""
    with tempfile.TemporaryDirectory(prefix="dlkit-bench-cluster-") as tmp:
        scratch = Path(tmp)
        folders = write_module_folders(plan(size), scratch / "class")
        started = time.perf_counter()
        address, processes = local.start(2, port=free_port(), log=scratch / "cluster.log")
        try:
            local.wait_for_workers(address, 2, processes)
            start_wall = time.perf_counter() - started
            print(f"cluster start (scheduler, 2 warm workers): {start_wall:.1f} s", flush=True)
            local_walls, cluster_walls = [], []
            for n in range(repeats):
                local_walls.append(timed_grade(folders, scratch / f"local{n}", "--jobs", "2"))
                cluster_walls.append(timed_grade(folders, scratch / f"dask{n}", "--scheduler", address))
                print(f"{size} submissions: local --jobs 2 {local_walls[-1]:.1f} s, cluster (2 workers x 1 thread) "
                      f"{cluster_walls[-1]:.1f} s wall", flush=True)
            local_wall, cluster_wall = min(local_walls), min(cluster_walls)
            one = folders[0]  # plan's student 0 is correct in every module
            end_to_end = timed_grade([one], scratch / "one", "--scheduler", address)
            round_trip, grading = task_latency(address, one)
            singles = {}  # each assignment resubmitted alone: the same student's module by itself
            for module in MODULES:
                single = scratch / "single" / module
                single.mkdir(parents=True)
                shutil.copy(one / f"{module}.py", single)
                singles[module] = task_latency(address, single)
        finally:
            local.stop(processes)
    figures = {"size": size, "repeats": repeats, "local_jobs2_walls": local_walls, "cluster_walls": cluster_walls,
               "local_jobs2_wall": local_wall, "cluster_start": start_wall,
               "cluster_warm_wall": cluster_wall, "one_end_to_end": end_to_end,
               "one_task_round_trip": round_trip, "one_task_grading": grading,
               "one_module_task_round_trips": {m: trip for m, (trip, _) in singles.items()},
               "one_module_task_gradings": {m: grading for m, (_, grading) in singles.items()}}
    print("\n== cluster mode ==")
    print(f"throughput, {size} submissions, best of {repeats}: local --jobs 2 {size / local_wall:.2f}/s, warm cluster "
          f"{size / cluster_wall:.2f}/s: overhead {100 * (cluster_wall / local_wall - 1):+.0f}% "
          f"({100 * ((cluster_wall + start_wall) / local_wall - 1):+.0f}% counting the cluster's start)")
    print(f"latency, one correct submission on the warm cluster: {end_to_end:.2f} s end to end (dlkit grade), "
          f"{round_trip:.2f} s as one task, of which grading {grading:.2f} s: the engine adds "
          f"{round_trip - grading:.2f} s")
    slowest = max(singles, key=lambda m: singles[m][0])
    print(f"latency, one assignment resubmitted alone (one module) on the warm cluster: at most "
          f"{singles[slowest][0]:.2f} s as one task ({slowest}, grading {singles[slowest][1]:.2f} s); "
          + ", ".join(f"{m} {trip:.2f}" for m, (trip, _) in singles.items()))
    return figures
