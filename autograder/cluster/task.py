"""The task a Dask worker runs: one submission as plain data in, its grade as plain data out.

The Dask worker process plays the part of a local grader process: it runs the hidden tests and
the reference, and the student's code runs only in the sandboxed workers forked from the warm
template its plugin keeps (``plugin.py``). Like ``grade_one`` on the local path, the task never
raises for a submission: a grader failure comes back as ``{"error": ..., "details": ...}``.
"""

from __future__ import annotations

import traceback
from pathlib import Path

from autograder.cluster.data import grade_data, module_files
from autograder.grading.fingerprint import grader_version


class NotAGraderWorker(RuntimeError):
    """This Dask worker was started without the dlkit plugin (no warm sandboxed template)."""


def grade_task(files: dict, limits: dict) -> dict:
    """Grade one submission on this Dask worker: ``{"grade": ..., "grader": ..., "worker": ...}``,
    or ``{"error": ..., "details": ...}`` when the grader failed on it."""
    from autograder.cluster.plugin import current_plugin
    from autograder.grading.batch import describe
    from autograder.grading.grade import grade_submission
    from autograder.runner.sandbox import Limits

    plugin = current_plugin()
    if plugin is None:  # raised, not returned: the client retries it on another worker
        raise NotAGraderWorker("this Dask worker was started without `--preload autograder.cluster.plugin`")
    base = {"grader": grader_version(), "worker": plugin.address}
    try:
        with plugin.grading:  # one at a time in this process, whatever --nthreads says
            result = grade_submission(Path("submission"), files=module_files(files), limits=Limits(**limits))
        return base | {"grade": grade_data(result)}
    except Exception as exc:  # noqa: BLE001 - anything the grader throws on this submission, as locally
        return base | {"error": describe(exc), "details": traceback.format_exc()}
