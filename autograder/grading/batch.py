"""Grade many submissions in grader processes, writing each result as soon as it is done.

The batch always finishes. Whatever grading one folder throws (a ``RecursionError``, a
``MemoryError``, a bug of the grader's) ends in a ``results.json`` that says the submission could
not be graded, with 0 for every test, and its row in ``grades.csv``; the traceback goes to the
instructor's log ``DIR/grader.log``. A grader process that dies takes no other submission with it:
the submissions it had are graded again in a fresh pool, those it was grading each alone first,
where a submission can only end itself.

A stop request (``STOP``, set by ``stop_on_signals``: SIGINT, SIGTERM, SIGHUP) kills every grader
process at once (``dlkit grade`` always grades in grader processes); their warm templates and
workers die with them (``bwrap --die-with-parent``, and
``PR_SET_PDEATHSIG`` for the grader processes if this process is killed outright). Finished
results stay; rerunning the batch grades only what is left (``already_graded``).
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import multiprocessing
import os
import signal
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from autograder.files import atomic_write, partial_writes
from autograder.grading.fingerprint import fingerprint
from autograder.grading.ids import output_folders, printable, student_id
from autograder.grading.results import (grades_csv, results_data, summary_row, ungraded_result,
                                        write_results)
from autograder.runner.sandbox import Limits

if TYPE_CHECKING:
    from autograder.grading.grade import SubmissionResult

LOG = "grader.log"
MAX_POOL_DEATHS = 1  # a submission being graded when this many pools broke is graded alone next
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class Submission:
    folder: Path  # the student's submission folder
    student: str  # their id: the folder's name
    out: Path  # where their results go: DIR/<student>, or a safe folder for an odd id (grading/ids.py)


@dataclass(frozen=True)
class Outcome:
    row: dict  # the summary row for grades.csv
    error: str = ""  # why the grader failed on the submission ("" when it was graded)
    details: str = ""  # the traceback, for the instructor's log
    tracebacks: str = ""  # the grader-side tracebacks of tests that could not check a result: the log's
    worker_output: str = ""  # what the submission's workers printed: the log's, with ``debug``


class Stopped(BaseException):
    """A stop signal arrived: the batch ends now (a BaseException, so that no ``except Exception``
    around a single submission takes it for that submission's failure)."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.finished = 0  # submissions with their results written when the batch stopped


class StopRequest:
    """Set from a signal handler. Grader processes are killed at once; grading in this process
    (``pool=False``) ends after the current submission, whose grade is then not recorded (the
    grading runs inside pytest, which would swallow an exception raised in the middle)."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.interruptible = False  # the caller's own work (e.g. the reports) may take the exception

    def request(self, signum: int) -> None:
        self.signum = self.signum or signum
        kill_grader_processes()
        if self.interruptible:
            self.interruptible = False
            raise Stopped(self.signum)

    def check(self) -> None:
        if self.signum is not None:
            raise Stopped(self.signum)


STOP = StopRequest()


@contextmanager
def stop_on_signals() -> Iterator[StopRequest]:
    """SIGINT, SIGTERM and SIGHUP stop the batch (``Stopped`` is raised out of ``grade_batch``)."""
    previous = {s: signal.signal(s, lambda signum, frame: STOP.request(signum)) for s in STOP_SIGNALS}
    STOP.signum, STOP.interruptible = None, False
    try:
        yield STOP
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        STOP.signum, STOP.interruptible = None, False  # a later batch of this process starts afresh


def kill_grader_processes() -> None:
    """SIGKILL every grader process of this process: their templates and workers die with them."""
    for process in multiprocessing.active_children():
        try:
            os.kill(process.pid, signal.SIGKILL)
        except (ProcessLookupError, TypeError):
            pass


_STARTED = None  # in a grader process: where it says which submission it starts (see run_pool)


def start_grader_process(parent: int, started) -> None:
    """In a new grader process: die with the batch (even a SIGKILLed one) and leave SIGINT and
    SIGHUP to it (Ctrl-C and a closed terminal reach the whole process group; the batch decides)."""
    global _STARTED
    _STARTED = started
    for s in (signal.SIGINT, signal.SIGHUP):
        signal.signal(s, signal.SIG_IGN)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the batch still kills its grader processes
        pass
    if os.getppid() != parent:  # the batch ended before prctl could take effect
        os._exit(1)
    one_torch_thread()


def one_torch_thread() -> None:
    """One torch thread in this grader process, as in the workers and on a cluster's workers: a
    pool's processes share the cores instead of oversubscribing them (idle OpenMP threads spin),
    and the reference's sums are added in the same order on every machine."""
    import torch

    torch.set_num_threads(1)


def grade_in_grader_process(submission: Submission, limits: Limits) -> Outcome:
    """``grade_one`` in a pool's grader process, telling the batch first which submission it
    starts: when the process dies, only the submissions it had started are suspects."""
    _STARTED.put(str(submission.folder))
    return grade_one(submission, limits)


def describe(exc: BaseException) -> str:
    try:
        text = str(exc)
    except Exception:  # noqa: BLE001 - an exception whose message itself fails
        text = ""
    text = text if len(text) <= 300 else text[:300] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def grade_one(submission: Submission, limits: Limits = Limits()) -> Outcome:
    """In a grader process (or in process): grade one folder, write its results.json, return its
    summary row. Never raises an ``Exception``: a grader failure becomes the submission's result."""
    try:
        from autograder.grading.grade import grade_submission

        stamp = grading_stamp(submission.folder, limits)  # before grading: a file changed meanwhile means a regrade
        result = grade_submission(submission.folder, limits=limits)
        STOP.check()  # in process, a stop came during this grading: record nothing
        return record(submission, result, stamp)
    except Exception as exc:  # noqa: BLE001 - anything the grader throws on this submission
        return not_graded(submission, describe(exc), traceback.format_exc())


def record(submission: Submission, result: SubmissionResult, stamp: str) -> Outcome:
    """Write the results.json of a graded submission and return its summary row: the same code
    for every engine (grader processes, in process, a Dask cluster), so their results agree."""
    result.student = submission.student
    data = results_data(result, submission.student, stamp)
    write_results(submission.out, data)
    return Outcome(summary_row(submission.student, data), tracebacks=tracebacks(result),
                   worker_output=worker_output(result))


def tracebacks(result: SubmissionResult) -> str:
    """The grader-side traceback of every test that has one (never in results.json)."""
    return "\n".join(f"{r.test.module}::{r.test.name}: {r.output}\n{r.debug.rstrip()}"
                     for r in result.results if r.debug)


def worker_output(result: SubmissionResult) -> str:
    """What each module's worker printed (its stdout and stderr, never in results.json)."""
    return "\n".join(f"{module}:\n{text.rstrip()}" for module, text in result.worker_output.items() if text.strip())


def not_graded(submission: Submission, error: str, details: str = "", cause: str = "") -> Outcome:
    """Write the results of a submission the grader failed on: every test 0, saying so. ``error``
    and ``details`` are for the instructor; the student reads only ``cause`` (by default the
    exception's type), never a message of the grader's that could quote hidden data."""
    cause = cause or f"the grader failed on this submission ({error.split(':')[0]})"
    result = ungraded_result(submission.student, f"{cause}; your instructor has the details")
    data = results_data(result, submission.student, error=error)
    try:
        write_results(submission.out, data)
    except OSError as exc:
        error += f" (and its results.json could not be written: {exc.strerror})"
    return Outcome(summary_row(submission.student, data), error, details)


def not_graded_here(submission: Submission, exc: Exception) -> Outcome:
    """In the batch's own process: a submission whose grading raised out of its grader process.
    If even its ungraded result cannot be made (the grader itself is broken), its row says 0."""
    error, details = describe(exc), "".join(traceback.format_exception(exc))
    try:
        return not_graded(submission, error, details)
    except Exception as again:  # noqa: BLE001 - the batch finishes all the same
        row = {"student": submission.student, "scores": {}, "total": 0.0, "max_total": 0.0}
        return Outcome(row, f"{error}; its results could not be written either ({describe(again)})",
                       details + "".join(traceback.format_exception(again)))


def grading_stamp(folder: Path, limits: Limits) -> str:
    """What a grade depends on: the submission's files, the grader (``fingerprint``) and the limits
    it was graded under (a rerun with another ``--budget`` grades again)."""
    return hashlib.sha256(f"{fingerprint(folder)}\0{limits!r}".encode()).hexdigest()


def already_graded(submission: Submission, limits: Limits = Limits()) -> dict | None:
    """The summary row of a finished, up-to-date result for ``submission``, if there is one."""
    try:
        data = json.loads((submission.out / "results.json").read_text(encoding="utf-8"))
        extra = data.get("extra_data", {})
        if (extra.get("dlkit_student") == submission.student
                and extra.get("dlkit_fingerprint") == grading_stamp(submission.folder, limits)):
            return summary_row(submission.student, data)
    except Exception:  # noqa: BLE001 - anything odd about an earlier result: grade again
        pass
    return None


def plan(folders: list[Path], out: Path) -> list[Submission]:
    """Each folder as a submission: its id, and where its results go (folder names are distinct)."""
    names = [f.name for f in folders]
    occupied = frozenset(n for n in names if (out / n).is_symlink() or (out / n).exists() and not (out / n).is_dir())
    places = output_folders(names, occupied)
    return [Submission(f, student_id(f.name), out / places[f.name]) for f in folders]


# grades ``todo`` (under ``limits``), calling ``finish`` once per submission; ``GraderLog`` for the rest
Engine = Callable[[list[Submission], Limits, Callable[[Submission, Outcome], None], "GraderLog"], None]


class GraderLog:
    """``DIR/grader.log``, for the instructor: what went wrong, with the tracebacks."""

    def __init__(self, path: Path):
        self.path = path

    def write(self, text: str, details: str = "") -> None:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        lines = [f"{stamp} {text}"] + ["    " + line for line in details.rstrip().splitlines()]
        try:
            with self.path.open("a", encoding="utf-8", errors="backslashreplace") as fh:
                fh.write("\n".join(lines) + "\n")
        except OSError as exc:
            print(f"dlkit: cannot write {self.path} ({exc.strerror}): {text}", file=sys.stderr)


def grade_batch(folders: list[Path], out: Path, jobs: int,
                on_done: Callable[[Path, dict | None, str], None] = lambda folder, row, error: None,
                limits: Limits = Limits(), force: bool = False, pool: bool | None = None,
                engine: Engine | None = None, debug: bool = False) -> tuple[list[dict], dict[Path, str]]:
    """Grade every folder; return the summary rows (one per folder, the ungraded included) and the
    folders the grader failed on, with the reason (those also have a results.json saying so).

    ``jobs`` grader processes (``pool``: whether to grade in them even for one job; by default only
    when ``jobs > 1``). Results already in ``out`` for the same submission and grader are kept,
    unless ``force``: an interrupted batch, run again, grades only what is left. ``engine``, when
    given, grades instead of the grader processes (``autograder.cluster``: on a Dask cluster).
    The instructor's log, ``DIR/grader.log``, gets every grader failure and every grader-side
    traceback of a test; with ``debug``, also what each submission's workers printed.
    Raises ``Stopped`` when ``STOP`` is requested, after writing ``grades.csv`` of the finished ones."""
    out.mkdir(parents=True, exist_ok=True)
    log = GraderLog(out / LOG)
    rows: list[dict] = []
    failures: dict[Path, str] = {}
    todo = []
    for submission in plan(folders, out):
        remove_partial_writes(submission.out)
        done = None if force else already_graded(submission, limits)
        if done is None:
            todo.append(submission)
        else:
            rows.append(done)
            on_done(submission.folder, done, "")

    def finish(submission: Submission, outcome: Outcome) -> None:
        rows.append(outcome.row)
        if outcome.error:
            failures[submission.folder] = outcome.error
            log.write(f"could not grade {printable(submission.student)} ({submission.folder}): {outcome.error}",
                      outcome.details)
        if outcome.tracebacks:
            log.write(f"tests of {printable(submission.student)} that could not check a result (the student "
                      "was told only that): the grader's tracebacks", outcome.tracebacks)
        if debug and outcome.worker_output:
            log.write(f"what the workers of {printable(submission.student)} printed", outcome.worker_output)
        on_done(submission.folder, outcome.row, outcome.error)

    try:
        if engine is not None and todo:
            engine(todo, limits, finish, log)
        elif (jobs > 1 if pool is None else pool) and todo:
            grade_in_pools(todo, max(jobs, 1), limits, finish, log)
        else:
            grade_in_process(todo, limits, finish)
    except Stopped as stop:
        stop.finished = len(rows)
        log.write(f"stopped by {signal.Signals(stop.signum).name}: {len(rows)} of {len(folders)} submissions "
                  "finished; rerunning the same command grades the others")
        raise
    finally:
        atomic_write(out / "grades.csv", grades_csv(rows))
    return rows, failures


def grade_in_process(todo: list[Submission], limits: Limits, finish: Callable[[Submission, Outcome], None]) -> None:
    for submission in todo:
        STOP.check()
        finish(submission, grade_one(submission, limits))


def grade_in_pools(todo: list[Submission], jobs: int, limits: Limits,
                   finish: Callable[[Submission, Outcome], None], log: GraderLog) -> None:
    """Grade in pools of grader processes until every submission is finished.

    A pool that breaks (a grader process died) loses the submissions it had not finished: they are
    graded again in a fresh pool. Those it was grading when it broke (the culprit, or a neighbour)
    are graded alone first, and a death when alone is that submission's own result. Bounded: a
    break counts against the lost submissions it had started, and after ``len(todo) + 2`` breaks
    against all it lost."""
    deaths: Counter[Submission] = Counter()
    queue = list(todo)
    breaks = 0
    while queue:
        suspects = [s for s in queue if deaths[s] >= MAX_POOL_DEATHS]
        group = suspects[:1] or queue
        lost, started = run_pool(group, min(jobs, len(group)), limits, finish)
        if not lost:
            queue = [s for s in queue if s not in group]
            continue
        breaks += 1
        log.write("a grader process died; not finished: " + ", ".join(printable(s.student) for s in lost)
                  + ("" if suspects else "; grading them again in a fresh pool"))
        for submission in lost:
            if str(submission.folder) in started or breaks > len(todo) + 2:
                deaths[submission] += 1
            if suspects:
                finish(submission, not_graded(submission, "the grader process died while grading it, alone",
                                              cause="the grader's process stopped while grading this submission"))
        queue = [s for s in queue if (s not in group) or (s in lost and not suspects)]


def run_pool(group: list[Submission], size: int, limits: Limits,
             finish: Callable[[Submission, Outcome], None]) -> tuple[list[Submission], set[str]]:
    """Grade ``group`` in a fresh pool of ``size`` grader processes; return the submissions lost
    when the pool broke, and the folders the pool had started grading."""
    context = multiprocessing.get_context("spawn")
    started_queue = context.SimpleQueue()
    started: set[str] = set()
    pool = ProcessPoolExecutor(max_workers=size, mp_context=context, initializer=start_grader_process,
                               initargs=(os.getpid(), started_queue))
    lost: list[Submission] = []
    stopped = True
    try:
        futures: dict[Future, Submission] = {pool.submit(grade_in_grader_process, s, limits): s for s in group}
        pending = set(futures)
        while pending:
            STOP.check()
            done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            STOP.check()  # a stop breaks the pool: its submissions are not lost, they are left
            while not started_queue.empty():  # read as it comes: a full pipe would block the graders
                started.add(started_queue.get())
            for future in done:
                submission = futures[future]
                try:
                    outcome = future.result()
                except BrokenProcessPool:
                    lost.append(submission)
                    continue
                except Exception as exc:  # noqa: BLE001 - e.g. a result that could not travel back
                    outcome = not_graded_here(submission, exc)
                finish(submission, outcome)
        stopped = False
    finally:
        if stopped:
            kill_grader_processes()
            pool.shutdown(wait=False, cancel_futures=True)
        else:
            pool.shutdown(wait=True)
        started_queue.close()
    return lost, started


def remove_partial_writes(folder: Path) -> None:
    """Temporary files of a write that a stop or a crash cut short (``atomic_write``'s names)."""
    for tmp in partial_writes(folder, "results.json"):
        tmp.unlink(missing_ok=True)


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
