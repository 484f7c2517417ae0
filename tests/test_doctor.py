"""`dlkit doctor` and `dlkit grade` say which sandbox grades; without one, a run warns exactly once."""

from __future__ import annotations

import os
import subprocess
import sys

from autograder.runner.sandbox import bubblewrap

DLKIT = [sys.executable, "-m", "autograder.cli"]


def test_doctor_names_the_sandbox():
    run = subprocess.run([*DLKIT, "doctor"], capture_output=True, text=True, timeout=120)
    assert "sandbox: " in run.stdout and "torch: " in run.stdout
    assert run.returncode == (0 if bubblewrap() else 1)
    if bubblewrap():
        assert "bubblewrap (" in run.stdout


def test_an_unsandboxed_run_warns_once(tmp_path):
    folder = tmp_path / "alice"
    folder.mkdir()
    (folder / "perceptron.py").write_text("def step(z):\n    return (z >= 0).to(z.dtype)\n")
    env = {**os.environ, "PATH": "/nonexistent"}  # no bwrap on PATH ...
    code = ("import sys, autograder.runner.sandbox as s; s.bwrap_candidates = lambda: []; "  # ... nor the wheel's
            "from autograder.cli import main; sys.exit(main(sys.argv[1:]))")
    run = subprocess.run([sys.executable, "-c", code, "grade", str(folder), "--out", str(tmp_path / "out"),
                          "--jobs", "2"], capture_output=True, text=True, timeout=600, env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stderr.count("NOT in a sandbox") == 1, run.stderr[-3000:]
