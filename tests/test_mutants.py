"""The hidden suites catch every catalogued student bug, keep full marks for correct alternatives,
and have no dead test."""

from __future__ import annotations

import pytest

from autograder import mutation
from autograder.syllabus import MODULES


@pytest.fixture(scope="module")
def verdict():
    edits = mutation.load(MODULES)
    return edits, mutation.judge(mutation.run(edits, jobs=2), MODULES)


def test_the_catalogue_is_large_and_covers_every_module(verdict):
    edits, _ = verdict
    bugs = [e for e in edits if e.kind == "bug"]
    assert len(bugs) >= 80, len(bugs)
    for module in MODULES:
        assert sum(e.module == module for e in bugs) >= 8, module
        assert sum(e.module == module and e.kind == "alternative" for e in edits) >= 2, module


def test_every_bug_loses_points(verdict):
    _, v = verdict
    assert not v.survivors, [f"{e.module}/{e.id}: {e.description}" for e in v.survivors]


def test_every_correct_alternative_keeps_full_marks(verdict):
    _, v = verdict
    assert not v.broken_alternatives, [(e.id, lost) for e, lost in v.broken_alternatives]


def test_no_hidden_test_is_dead(verdict):
    _, v = verdict
    assert not v.dead_tests, v.dead_tests
