"""Gradescope: build the autograder zip, and the entry point it runs on Gradescope's machines.

Gradescope unpacks the zip into /autograder/source, runs ``setup.sh`` once to build its image,
then for each submission runs ``run_autograder``, which grades /autograder/submission with the
same hidden suites and sandbox as ``dlkit grade`` and writes /autograder/results/results.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import zipfile
from importlib import metadata
from pathlib import Path

from autograder.syllabus import REPO

# what grading needs at run time, pinned to the versions this kit is tested with
PINNED = ("torch", "numpy", "pytest", "nbformat", "rich", "matplotlib")
INCLUDE = ("pyproject.toml", "README.md", "nbgrader_config.py")
INCLUDE_TREES = {"autograder": (".py", ".toml", ".ini"), "solutions": (".py",), "source": (".ipynb",)}

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, to build the autograder image (Ubuntu with Python 3.11 or newer).
set -euo pipefail
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y bubblewrap python3 python3-venv python3-pip
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "dlkit's grader needs Python 3.11 or newer; this image has $(python3 --version 2>&1)." >&2
  echo "Choose a newer base image in the Gradescope autograder settings (e.g. Ubuntu 24.04)." >&2
  exit 1
fi
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install --upgrade pip
# PyTorch's CPU wheels: the default index would pull the multi-GB CUDA build, useless here
/autograder/venv/bin/pip install -r /autograder/source/requirements.txt \\
  --extra-index-url https://download.pytorch.org/whl/cpu
/autograder/venv/bin/pip install --no-deps -e /autograder/source
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission: grade /autograder/submission, write the results.
set -uo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PYTHON="${DLKIT_PYTHON:-$ROOT/venv/bin/python}"
mkdir -p "$ROOT/results"
cd "$ROOT/source" && exec "$PYTHON" -m autograder.gradescope "$ROOT/submission" "$ROOT/results/results.json"
"""


def requirements(names: tuple[str, ...] = PINNED) -> str:
    """requirements.txt pinning ``names`` to the versions installed here."""
    return "".join(f"{name}=={metadata.version(name)}\n" for name in names)


def build_zip(target: Path) -> Path:
    """The zip to upload as a Gradescope autograder."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text, mode in (("setup.sh", SETUP_SH, 0o755), ("run_autograder", RUN_AUTOGRADER, 0o755),
                                 ("requirements.txt", requirements(), 0o644)):
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.external_attr = (0o100000 | mode) << 16
            archive.writestr(info, text)
        for name in INCLUDE:
            archive.write(REPO / name, name)
        for tree, suffixes in INCLUDE_TREES.items():
            for path in sorted((REPO / tree).rglob("*")):
                if path.is_file() and path.suffix in suffixes and "__pycache__" not in path.parts \
                        and ".ipynb_checkpoints" not in path.parts:
                    archive.write(path, path.relative_to(REPO).as_posix())
    return target


def submission_folder(folder: Path) -> Path:
    """Students often upload a folder rather than its files: look inside a lone subfolder."""
    entries = [p for p in folder.iterdir() if not p.name.startswith(".")] if folder.is_dir() else []
    if len(entries) == 1 and entries[0].is_dir() and not entries[0].is_symlink():
        return entries[0]
    return folder


def run(submission: Path, results: Path) -> int:
    from autograder.grading.grade import grade_submission
    from autograder.grading.results import atomic_write, gradescope_json

    try:
        data = gradescope_json(grade_submission(submission_folder(submission)))
    except Exception as exc:  # noqa: BLE001 - Gradescope needs a results file whatever happens
        data = {"score": 0, "output": f"The autograder failed ({type(exc).__name__}: {exc}); "
                                      "please tell your instructor.", "tests": []}
    atomic_write(results, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.gradescope")
    parser.add_argument("submission", type=Path)
    parser.add_argument("results", type=Path)
    args = parser.parse_args(argv)
    return run(args.submission, args.results)


if __name__ == "__main__":
    sys.exit(main())
