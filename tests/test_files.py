"""The kit's one writer: atomic, and the permissions the umask gives (0644 files, 0755 folders
under the usual 022), for results.json and grades.csv as for the reports."""

from __future__ import annotations

import os
import stat
from contextlib import contextmanager
from pathlib import Path

import pytest

from autograder.files import atomic_write, partial_writes, umask
from autograder.grading.batch import grade_batch
from autograder.grading.results import write_results
from autograder.reports.feedback import write_feedback

ROOT = Path(__file__).resolve().parents[1] / "autograder"


@contextmanager
def umask_of(mask: int):
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.fast
@pytest.mark.parametrize("mask, file_mode, folder_mode", [(0o022, 0o644, 0o755), (0o077, 0o600, 0o700),
                                                           (0o002, 0o664, 0o775)])
def test_written_files_and_folders_have_the_modes_the_umask_gives(tmp_path, mask, file_mode, folder_mode):
    with umask_of(mask):
        assert umask() == mask
        text = atomic_write(tmp_path / "new" / "a.txt", "é\n")
        data = atomic_write(tmp_path / "b.bin", b"\x00\x01")
        results = write_results(tmp_path / "alice", {"score": 0, "tests": []})
        grade_batch([], tmp_path / "out", jobs=1)
        feedback = write_feedback(results.parent)
    assert text.read_bytes() == "é\n".encode() and data.read_bytes() == b"\x00\x01"
    for path in (text, data, results, tmp_path / "out" / "grades.csv", *feedback):
        assert mode(path) == file_mode, path
    for folder in (tmp_path / "new", tmp_path / "alice", tmp_path / "out"):
        assert mode(folder) == folder_mode, folder


@pytest.mark.fast
def test_a_failed_write_leaves_the_old_file_and_no_temporary_one(tmp_path):
    path = atomic_write(tmp_path / "results.json", "old")
    with pytest.raises(TypeError):
        atomic_write(path, 3)  # type: ignore[arg-type] - neither text nor bytes: fails mid-write
    assert path.read_text() == "old" and partial_writes(tmp_path, "results.json") == []


@pytest.mark.fast
def test_the_kit_has_one_atomic_writer():
    """Every ``os.replace`` and ``mkstemp`` of the package is in autograder/files.py."""
    writers = sorted(str(p.relative_to(ROOT)) for p in ROOT.rglob("*.py")
                     if "os.replace(" in p.read_text() or "mkstemp(" in p.read_text())
    assert writers == ["files.py"]
