"""The hidden suites catch every catalogued student bug and every evasion of the from-scratch rule,
keep full marks for correct alternatives (most of them written blind, from the SYLLABUS and the stubs
alone), and have no dead test."""

from __future__ import annotations

import pytest

from autograder.mutants import mutation
from autograder.syllabus import ASSIGNMENTS, MODULES


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


def test_the_blind_catalogue_is_large_and_covers_every_function(verdict):
    edits, _ = verdict
    blind = [e for e in edits if e.kind == "alternative" and e.shelf == "blind"]
    assert len(blind) >= 120, len(blind)
    for assignment in ASSIGNMENTS:
        for item in assignment.items:
            assert any(e.module == assignment.module and e.function == item for e in blind), item


def test_every_evasion_of_the_rule_loses_its_functions_points(verdict):
    edits, v = verdict
    assert sum(e.kind == "evasion" for e in edits) >= 40
    assert not v.missed_evasions, [f"{e.module}/{e.id}: {e.description}" for e in v.missed_evasions]


def test_every_bug_loses_points(verdict):
    _, v = verdict
    assert not v.survivors, [f"{e.module}/{e.id}: {e.description}" for e in v.survivors]


def test_every_correct_alternative_keeps_full_marks(verdict):
    _, v = verdict
    assert not v.broken_alternatives, [(e.id, lost) for e, lost in v.broken_alternatives]


def test_no_hidden_test_is_dead(verdict):
    _, v = verdict
    assert not v.dead_tests, v.dead_tests
