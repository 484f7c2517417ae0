"""Grade a batch on a Dask cluster: the engine ``grade_batch`` uses with ``--scheduler ADDRESS``.

The client reads each submission into plain data, sends it as a task, checks what comes back and
hands it to the same code as the local path (``batch.record``), which writes ``results.json``.
A Dask worker that dies mid-task has its task rerun elsewhere by the scheduler (at most
``distributed.scheduler.allowed-failures`` times, 3 by default); a submission every worker dies on
ends as ``KilledWorker`` and is marked failed, and the batch goes on. A task that raises (a worker
started without the dlkit plugin) is retried ``RETRIES`` times. Each future gives one result,
recorded once: no submission is lost or graded twice. A stop (``STOP``) cancels what is left; so
does losing the scheduler for good (``ClusterUnavailable``): a rerun grades the rest.
"""

from __future__ import annotations

import contextlib
import time
import traceback
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import CancelledError
from dataclasses import asdict, dataclass, field

from autograder.cluster.data import MalformedResult, grade_from_data, submission_data
from autograder.cluster.task import grade_task
from autograder.grading.batch import (STOP, GraderLog, Outcome, Submission, describe, grading_stamp,
                                      not_graded, record)
from autograder.grading.fingerprint import grader_version
from autograder.grading.ids import printable
from autograder.runner.sandbox import Limits

RETRIES = 2  # a task that raised (not a worker that died: that is the scheduler's allowed-failures)
RESUBMITS = 2  # a future the scheduler lost (it restarted): submitted again this many times
POLL_SECONDS = 1.0  # how often the progress asks the scheduler which workers grade what
CONNECT_SECONDS = 30.0
DIED_CAUSE = "the grader's process stopped each time it graded this submission"


class ConnectionLost(Exception):
    """A task's result could not be fetched: the scheduler lost it, or the client lost the scheduler."""


class ClusterUnavailable(ConnectionError):
    """The scheduler cannot be reached (nothing was graded), or it was lost mid-batch (what was
    finished is recorded; a rerun grades the rest)."""


@dataclass
class ClusterStatus:
    """What the progress bar shows."""
    completed: int = 0
    failed: int = 0  # submissions the grader failed on (they have a results.json saying so)
    retried: int = 0  # tasks run again because the worker grading them died
    workers: int = 0  # workers the scheduler has
    busy: int = 0  # workers grading one of ours now
    graded_by: dict[str, str] = field(default_factory=dict)  # student -> the worker that graded them

    def line(self) -> str:
        return (f"{self.completed} done, {self.failed} failed, {self.retried} retried; "
                f"{self.busy}/{self.workers} workers busy")


class ClusterEngine:
    """``grade_batch(..., engine=ClusterEngine(address))``: grade ``todo`` on the cluster."""

    def __init__(self, address: str, on_status: Callable[[ClusterStatus], None] = lambda status: None):
        self.address = address
        self.on_status = on_status
        self.status = ClusterStatus()

    def __call__(self, todo: list[Submission], limits: Limits,
                 finish: Callable[[Submission, Outcome], None], log: GraderLog) -> None:
        from distributed import Client

        try:
            client = Client(self.address, timeout=CONNECT_SECONDS, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ClusterUnavailable(f"cannot reach the Dask scheduler at {self.address} ({describe(exc)})") from None
        futures: dict = {}
        try:
            self._grade(client, todo, limits, finish, futures)
        finally:
            if futures and client.status == "running":
                # best effort: a scheduler that is gone (or a client that gave up reconnecting and
                # closed) holds nothing of ours to cancel, and what raised above must stay the error
                with contextlib.suppress(Exception):
                    client.cancel(list(futures), force=True)
            with contextlib.suppress(Exception):
                client.close()
            if self.status.graded_by:
                log.write(f"graded on the Dask cluster at {self.address}: " + "; ".join(
                    f"{worker}: {', '.join(printable(s) for s in students)}"
                    for worker, students in self.by_worker().items()))

    def by_worker(self) -> dict[str, list[str]]:
        workers: dict[str, list[str]] = {}
        for student, worker in sorted(self.status.graded_by.items()):
            workers.setdefault(worker, []).append(student)
        return workers

    def _grade(self, client, todo: list[Submission], limits: Limits,
               finish: Callable[[Submission, Outcome], None], futures: dict) -> None:
        from distributed import wait

        queue, resubmits = deque(todo), Counter()
        tracker = RetryTracker()
        polled = 0.0
        while queue or futures:
            STOP.check()
            self._connected(client)
            try:
                window = 2 * max(sum(client.nthreads().values()), 1) + 4  # enough queued that no worker waits
            except (OSError, TimeoutError):  # the scheduler went away between the two calls
                continue
            while queue and len(futures) < window:
                submission = queue.popleft()
                sent = self._submit(client, submission, limits)
                if isinstance(sent, Outcome):
                    self._finish(finish, submission, sent)
                else:
                    futures[sent[0]] = (submission, sent[1])
            if not futures:
                continue
            try:
                with client.as_current():
                    done, _ = wait(list(futures), timeout=0.5, return_when="FIRST_COMPLETED")
            except (OSError, TimeoutError):  # none finished yet, or the scheduler is going: see _connected
                done = set()
            except CancelledError:  # some were cancelled (the scheduler lost them, or we lost it): done
                done = {future for future in futures if future.done()}
            STOP.check()  # a stop leaves the unfinished ones to a rerun: nothing half-recorded
            lost = []
            for future in done:
                submission, stamp = futures.pop(future)
                try:
                    outcome = None if future.status in ("cancelled", "lost") else \
                        self._outcome(future, submission, stamp)
                except ConnectionLost:
                    outcome = None
                if outcome is None:
                    lost.append(submission)
                else:
                    self._finish(finish, submission, outcome)
            if lost:  # the scheduler lost these tasks, or we lost the scheduler: not the submissions' fault
                self._connected(client)  # gone for good: the batch stops, a rerun grades them
                for submission in lost:
                    if resubmits[submission] < RESUBMITS:
                        resubmits[submission] += 1
                        queue.appendleft(submission)
                    else:
                        self._finish(finish, submission, not_graded(
                            submission, "the Dask scheduler lost its task again and again",
                            cause="the grading cluster lost this submission"))
            if time.monotonic() - polled >= POLL_SECONDS:
                polled = time.monotonic()
                self._poll(client, futures, tracker)

    def _connected(self, client) -> None:
        """Return once the client is connected to the scheduler. After a drop the client reconnects
        by itself (a restarted scheduler: the lost tasks are then submitted again); a scheduler
        gone for ``CONNECT_SECONDS`` stops the batch, leaving what is not finished to a rerun."""
        deadline = time.monotonic() + CONNECT_SECONDS + 5  # the client itself gives up (and closes) first
        while client.status != "running":
            STOP.check()
            if client.status in ("closing", "closed", "failed") or time.monotonic() > deadline:
                raise ClusterUnavailable(
                    f"lost the Dask scheduler at {self.address} in the middle of the batch: "
                    f"the {self.status.completed} graded in this run keep their results; run the "
                    "same command again once the cluster is back: it grades only the others")
            time.sleep(0.2)

    def _submit(self, client, submission: Submission, limits: Limits):
        """A future and the submission's grading stamp, or the ``Outcome`` of one that cannot be read."""
        try:
            stamp = grading_stamp(submission.folder, limits)  # before reading, as locally
            files = submission_data(submission.folder)
        except Exception as exc:  # noqa: BLE001 - as grade_one: the grader failed on this submission
            return not_graded(submission, describe(exc), traceback.format_exc())
        future = client.submit(grade_task, files, asdict(limits), pure=False, retries=RETRIES,
                               key=f"dlkit-grade-{stamp[:12]}-{time.monotonic_ns()}")
        return future, stamp

    def _outcome(self, future, submission: Submission, stamp: str) -> Outcome:
        from distributed import KilledWorker

        try:
            reply = future.result()
        except KilledWorker as exc:  # the hostnames stay in the log, out of results.json
            return not_graded(submission, f"every Dask worker that graded it died ({exc.allowed_failures + 1} "
                                          "times)", str(exc), cause=DIED_CAUSE)
        except (CancelledError, OSError, TimeoutError) as exc:  # the task or its result never reached us
            raise ConnectionLost(describe(exc)) from exc
        except Exception as exc:  # noqa: BLE001 - e.g. no worker with the dlkit plugin, after the retries
            return not_graded(submission, describe(exc), "".join(traceback.format_exception(exc)))
        try:
            return self._record(submission, reply, stamp)
        except MalformedResult as exc:
            return not_graded(submission, f"a Dask worker sent back a malformed result ({exc})")
        except Exception as exc:  # noqa: BLE001 - e.g. its results.json could not be written: as grade_one
            return not_graded(submission, describe(exc), traceback.format_exc())

    def _record(self, submission: Submission, reply: object, stamp: str) -> Outcome:
        if type(reply) is not dict or type(reply.get("worker")) is not str:
            raise MalformedResult("not a dict naming its worker")
        if reply.get("grader") != grader_version():
            raise MalformedResult(f"{reply['worker']} runs another version of the grader")
        self.status.graded_by[submission.student] = reply["worker"]
        if "error" in reply:  # the grader failed on it there: as grade_one's except
            error, details = reply.get("error"), reply.get("details")
            if type(error) is not str or type(details) is not str:
                raise MalformedResult("an error that is not text")
            return not_graded(submission, error, details)
        return record(submission, grade_from_data(reply.get("grade"), submission.student), stamp)

    def _finish(self, finish: Callable[[Submission, Outcome], None], submission: Submission,
                outcome: Outcome) -> None:
        self.status.completed += 1
        self.status.failed += bool(outcome.error)
        finish(submission, outcome)
        self.on_status(self.status)

    def _poll(self, client, futures: dict, tracker: "RetryTracker") -> None:
        try:
            processing = client.processing()
            workers = set(client.scheduler_info()["workers"])
        except Exception:  # noqa: BLE001 - only the progress bar depends on it
            return
        ours = {future.key for future in futures}
        self.status.workers = len(workers)
        self.status.busy = sum(1 for keys in processing.values() if ours.intersection(keys))
        self.status.retried = tracker.update(processing, workers, ours)
        self.on_status(self.status)


class RetryTracker:
    """Counts tasks rerun because their worker died: seen on one worker, then on another while the
    first is gone from the cluster (a task merely moved to a live worker is not a retry)."""

    def __init__(self) -> None:
        self.where: dict[str, str] = {}
        self.retried: set[str] = set()

    def update(self, processing: dict[str, list], workers: set[str], ours: set[str]) -> int:
        for worker, keys in processing.items():
            for key in ours.intersection(keys):
                before = self.where.get(key)
                if before is not None and before != worker and before not in workers:
                    self.retried.add(key)
                self.where[key] = worker
        return len(self.retried)
