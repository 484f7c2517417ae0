"""Benchmark: `dlkit grade` against `nbgrader autograde` and against the floor, on one machine.

    .venv/bin/python bench/bench.py                       # sizes 10, 50, 200; nbgrader on 10 students
    .venv/bin/python bench/bench.py --sizes 10 --nbgrader 2
    .venv/bin/python bench/bench.py --cluster 20           # Dask cluster mode only (bench/cluster.py)

It generates honest submissions (bench/submissions.py) as module folders and as notebooks, then
measures, in the same run:
  - dlkit grade on the module folders, for each size, and on the notebooks for the smallest size;
  - nbgrader autograde on the same notebooks (the first --nbgrader students: it is slow);
  - the floor: the hidden checks' own compute, with the reference in one warm process.
It prints the throughput ratio, the overhead over the floor, the cost per submission, peak memory
per worker and how the cost grows with the class size, and writes them to --json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from submissions import plan, write_module_folders, write_notebooks  # noqa: E402

from autograder.build.release import nbgrader_env  # noqa: E402
from autograder.syllabus import ASSIGNMENTS, MODULES, REPO, SOURCE  # noqa: E402


class Usage:
    """Wall time, CPU time of finished child processes, and peak memory of the process tree."""

    def __enter__(self) -> "Usage":
        self.wall = time.perf_counter()
        self.cpu = _children_cpu()
        self.peak_rss = 0
        self.peak_processes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.wall = time.perf_counter() - self.wall
        self.cpu = _children_cpu() - self.cpu

    def _sample(self) -> None:
        while not self._stop.wait(0.1):
            rss, count = tree_rss(os.getpid())
            self.peak_rss = max(self.peak_rss, rss)
            self.peak_processes = max(self.peak_processes, count)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def tree_rss(root: int) -> tuple[int, int]:
    """Memory (bytes, proportional set size: pages shared by forked workers counted once) of every
    process below ``root``, and how many there are."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                status = Path(f"/proc/{entry}/status").read_text()
            except OSError:
                continue
            ppid = next((line.split()[1] for line in status.splitlines() if line.startswith("PPid:")), "0")
            parents[int(entry)] = int(ppid)
    below, frontier = set(), {root}
    while frontier:
        frontier = {p for p, parent in parents.items() if parent in frontier} - below
        below |= frontier
    total = 0
    for pid in below:
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        total += next((int(line.split()[1]) * 1024 for line in rollup.splitlines() if line.startswith("Pss:")), 0)
    return total, len(below)


def dlkit_grade(folders: list[Path], out: Path, jobs: int) -> Usage:
    with Usage() as usage:
        run = subprocess.run([sys.executable, "-m", "autograder.cli", "grade", *map(str, folders),
                              "--out", str(out), "--jobs", str(jobs)], capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"dlkit grade failed:\n{run.stderr[-3000:]}")
    return usage


def nbgrader_autograde(submitted: Path, students: list[str], scratch: Path) -> Usage:
    course = scratch / "course"
    (course / "submitted").mkdir(parents=True)
    shutil.copy(REPO / "nbgrader_config.py", course)
    for student in students:
        shutil.copytree(submitted / student, course / "submitted" / student)
    nbgrader = [sys.executable, "-m", "nbgrader"]
    for assignment in ASSIGNMENTS:  # preparing the gradebook is not timed
        shutil.copytree(SOURCE / assignment.folder, course / "source" / assignment.folder)
        subprocess.run([*nbgrader, "generate_assignment", assignment.folder, "--force",
                        f"--CourseDirectory.root={course}"], cwd=course, env=nbgrader_env(),
                       capture_output=True, check=True)
    with Usage() as usage:
        for assignment in ASSIGNMENTS:
            subprocess.run([*nbgrader, "autograde", assignment.folder, "--force", f"--CourseDirectory.root={course}"],
                           cwd=course, env=nbgrader_env(), capture_output=True, check=True)
    return usage


def floor_seconds(repeats: int = 3) -> float:
    """CPU seconds for one submission's hidden checks, the reference grading itself in one warm process."""
    code = f"""
import time, inspect
from autograder.runner.reference import reference
from autograder.runner.session import LocalTransport, Session
from autograder.suites import tests_of
import importlib
from autograder.grading.batch import one_torch_thread
one_torch_thread()  # as the grader's processes compute
students, costs = {{}}, []
for m in {MODULES!r}:
    reference(m)
    students[m] = Session(LocalTransport(reference(m).transport.server), m)
for r in range({repeats} + 1):
    start = time.process_time()
    for m in {MODULES!r}:
        suite = importlib.import_module(f"autograder.suites.test_{{m}}")
        for test in tests_of(m):
            getattr(suite, test.name)(students[m], reference(m))
    costs.append(time.process_time() - start)
print(min(costs[1:]))
"""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(run.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10,50,200", help="class sizes for dlkit grade")
    parser.add_argument("--nbgrader", type=int, default=10, help="students for nbgrader autograde (0: skip)")
    parser.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    parser.add_argument("--cluster", type=int, default=0, metavar="N",
                        help="cluster mode only (bench/cluster.py): N submissions on 2 Dask workers vs --jobs 2")
    args = parser.parse_args()
    if args.cluster:
        from cluster import cluster_mode

        figures = cluster_mode(args.cluster)
        if args.json:
            args.json.write_text(json.dumps(figures, indent=2) + "\n")
        return
    sizes = sorted(int(s) for s in args.sizes.split(","))
    figures: dict = {"machine": {"cores": len(os.sched_getaffinity(0)), "jobs": args.jobs}, "dlkit_modules": {}}

    with tempfile.TemporaryDirectory(prefix="dlkit-bench-") as tmp:
        scratch = Path(tmp)
        students = plan(max(sizes + [args.nbgrader]))
        modules = write_module_folders(students, scratch / "modules")
        write_notebooks(students, scratch / "submitted")

        floor = floor_seconds()
        figures["floor_cpu_per_submission"] = floor
        print(f"floor: {floor:.3f} s of CPU per submission (hidden checks, reference, one warm process)")

        for size in sizes:
            usage = dlkit_grade(modules[:size], scratch / f"out-{size}", args.jobs)
            figures["dlkit_modules"][size] = {
                "wall": usage.wall, "cpu": usage.cpu, "wall_per_submission": usage.wall / size,
                "cpu_per_submission": usage.cpu / size, "peak_rss_per_job": usage.peak_rss / args.jobs}
            print(f"dlkit grade, {size} module folders: {usage.wall:.1f} s wall, {usage.cpu / size:.3f} s CPU "
                  f"per submission, peak {usage.peak_rss / args.jobs / 2**20:.0f} MiB per job")

        small = min(sizes)
        notebook_folders = [scratch / "submitted" / s for s in list(students)[:small]]
        usage = dlkit_grade(notebook_folders, scratch / "out-notebooks", args.jobs)
        figures["dlkit_notebooks"] = {"size": small, "wall": usage.wall, "cpu": usage.cpu,
                                      "wall_per_submission": usage.wall / small}
        print(f"dlkit grade, {small} notebook submissions (7 notebooks each): {usage.wall:.1f} s wall")

        if args.nbgrader:
            count = args.nbgrader
            usage = nbgrader_autograde(scratch / "submitted", list(students)[:count], scratch)
            figures["nbgrader"] = {"size": count, "wall": usage.wall, "cpu": usage.cpu,
                                   "wall_per_submission": usage.wall / count}
            print(f"nbgrader autograde, {count} students x 7 notebooks: {usage.wall:.1f} s wall")

    report(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


def report(f: dict) -> None:
    sizes = sorted(f["dlkit_modules"])
    per = {s: f["dlkit_modules"][s] for s in sizes}
    print("\n== results ==")
    print(f"machine: {f['machine']['cores']} cores, dlkit --jobs {f['machine']['jobs']}")
    for s in sizes:
        print(f"  N={s:4d}: {per[s]['wall_per_submission']:.3f} s wall and {per[s]['cpu_per_submission']:.3f} s CPU "
              f"per submission; {s / per[s]['wall']:.2f} submissions/s; "
              f"peak {per[s]['peak_rss_per_job'] / 2**20:.0f} MiB per worker job")
    largest = per[sizes[-1]]
    print(f"overhead over the floor: {largest['cpu_per_submission'] / f['floor_cpu_per_submission']:.2f}x "
          f"(CPU per submission {largest['cpu_per_submission']:.3f} s vs floor {f['floor_cpu_per_submission']:.3f} s)")
    if len(sizes) > 1:
        first, last = per[sizes[0]], per[sizes[-1]]
        print(f"growth from N={sizes[0]} to N={sizes[-1]}: CPU per submission x"
              f"{last['cpu_per_submission'] / first['cpu_per_submission']:.2f} (below 1: start-up is paid once)")
        previous = per[sizes[-2]]
        marginal = (last["cpu"] - previous["cpu"]) / (sizes[-1] - sizes[-2])
        print(f"marginal CPU per submission from N={sizes[-2]} to N={sizes[-1]}: {marginal:.3f} s "
              f"({marginal / f['floor_cpu_per_submission']:.2f}x the floor; no growth with N means no quadratic work)")
    if "nbgrader" in f:
        nb = f["nbgrader"]["wall_per_submission"]
        dl = f["dlkit_notebooks"]["wall_per_submission"]
        print(f"throughput vs nbgrader autograde (same notebooks): {nb / dl:.1f}x "
              f"({nb:.2f} s vs {dl:.3f} s wall per student; on module folders {nb / largest['wall_per_submission']:.1f}x)")


if __name__ == "__main__":
    main()
