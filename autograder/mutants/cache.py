"""Which modules' mutants passed, for what: the fast tier grades only the modules changed since.

A module's key hashes everything its mutants' verdict depends on: its catalogue's files, the
reference solution (which the entries edit, and the expected answers) and those of the sibling
modules the entries bring along, its hidden suite, and the rest of the grader:
``grader_files`` but the solutions, the suites and the source notebooks (the modules' own parts,
or never read by a mutant) and the cluster engine (mutants are graded in process), plus this
package's code, which makes and judges the mutants. The cache, ``.cache/dlkit/mutants.json`` in
the repository, holds the key of each module whose mutants all behaved the last time they were
graded; a module whose key is there need not be graded again.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from autograder.files import atomic_write
from autograder.mutants.catalogue import CATALOGUE, SHELVES, Edit
from autograder.syllabus import REPO, SOLUTIONS, SOURCE

CACHE = REPO / ".cache" / "dlkit" / "mutants.json"
ENGINES = REPO / "autograder" / "cluster"  # another way to run gradings: mutants are graded in process


def grader_part() -> str:
    """The grader but what a module's own key covers (and the source notebooks: .py mutants only)."""
    from autograder.grading.fingerprint import grader_files
    from autograder.suites import SUITES

    digest = hashlib.sha256()
    code = sorted(Path(__file__).parent.glob("*.py"))  # the mutants' harness: how they are made and judged
    for path in grader_files() + code:
        if path.parent == SOLUTIONS or path.parent == SUITES and path.name.startswith("test_") \
                or SOURCE in path.parents or ENGINES in path.parents:
            continue
        digest.update(path.relative_to(REPO).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def module_key(module: str, edits: list[Edit], grader: str) -> str:
    """The module's suite and solution, its catalogue's files (every shelf), and the solutions of
    the sibling modules its entries bring along (``Edit.files``)."""
    from autograder.suites import suite_path

    siblings = sorted({name for e in edits if e.module == module for name in e.siblings})
    files = [suite_path(module), SOLUTIONS / f"{module}.py", *(SOLUTIONS / f"{m}.py" for m in siblings),
             *(CATALOGUE / shelf / f"{module}.toml" for shelf in SHELVES)]
    digest = hashlib.sha256(f"{grader}\0{module}".encode())
    for path in files:
        digest.update(b"\0" + path.relative_to(REPO).as_posix().encode() + b"\0"
                      + (path.read_bytes() if path.exists() else b"<none>"))
    return digest.hexdigest()


def keys(modules: tuple[str, ...], edits: list[Edit]) -> dict[str, str]:
    grader = grader_part()
    return {module: module_key(module, edits, grader) for module in modules}


def passed_before(path: Path = CACHE) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def changed(current: dict[str, str], path: Path = CACHE) -> tuple[str, ...]:
    """The modules whose key is not the one recorded when their mutants last all passed."""
    before = passed_before(path)
    return tuple(module for module, key in current.items() if before.get(module) != key)


def remember(passed: dict[str, str], failed: tuple[str, ...] = (), path: Path = CACHE) -> None:
    """Record the keys of modules whose mutants all passed; forget those that failed."""
    data = {m: k for m, k in passed_before(path).items() if m not in failed} | passed
    atomic_write(path, json.dumps(data, indent=2, sort_keys=True) + "\n")
