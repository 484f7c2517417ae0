"""The hidden suites catch every catalogued student bug and every evasion of the from-scratch rule,
keep full marks for correct alternatives (most of them written blind, from the SYLLABUS and the stubs
alone), and have no dead test.

In the fast tier (``dlkit selftest --fast``, ``-m fast``) only the modules whose solution, suite,
catalogue or grader changed since their mutants last all passed are graded in full
(``autograder/mutants/cache.py``); every other module is still checked with its first bug.
"""

from __future__ import annotations

import pytest

from autograder.mutants import cache, mutation
from autograder.syllabus import ASSIGNMENTS, MODULES

pytestmark = pytest.mark.fast


def fast_tier(config: pytest.Config) -> bool:
    return "fast" in (config.option.markexpr or "")


def passed(verdict: mutation.Verdict, module: str) -> bool:
    failed = [e.module for e in verdict.survivors + verdict.missed_evasions]
    failed += [e.module for e, _ in verdict.broken_alternatives]
    failed += [nodeid.split("::")[0] for nodeid in verdict.dead_tests]
    return module not in failed


@pytest.fixture(scope="module")
def verdict(request):
    edits = mutation.load(MODULES)
    keys = cache.keys(MODULES, edits)
    modules = cache.changed(keys) if fast_tier(request.config) else MODULES
    spot_checks = [next(e for e in edits if e.module == m and e.kind == "bug") for m in MODULES if m not in modules]
    graded = [e for e in edits if e.module in modules] + spot_checks
    v = mutation.judge(mutation.run(graded, jobs=2), modules)
    after = cache.keys(MODULES, mutation.load(MODULES))  # a file edited meanwhile: its module is not vouched for
    cache.remember({m: keys[m] for m in modules if passed(v, m) and after[m] == keys[m]},
                   failed=tuple(m for m in modules if not passed(v, m)))
    return edits, v


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
