"""The Gradescope autograder zip, unpacked into Gradescope's layout and run on a real submission."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile

from autograder.gradescope import build_zip
from autograder.syllabus import SOLUTIONS
from test_grading import validate_gradescope


def test_the_zip_grades_a_submission_in_gradescope_layout(tmp_path):
    archive = build_zip(tmp_path / "autograder.zip")
    root = tmp_path / "autograder"
    with zipfile.ZipFile(archive) as z:
        names = z.namelist()
        z.extractall(root / "source")
    assert {"setup.sh", "run_autograder", "requirements.txt"} <= set(names)
    assert any(n.startswith("autograder/suites/test_") for n in names) and "solutions/activations.py" in names
    assert "torch==2.13.0" in (root / "source" / "requirements.txt").read_text()
    for script in ("setup.sh", "run_autograder"):
        assert subprocess.run(["bash", "-n", str(root / "source" / script)]).returncode == 0
    # students upload a folder: the grader looks inside it
    upload = root / "submission" / "my-work"
    upload.mkdir(parents=True)
    (upload / "perceptron.py").write_text((SOLUTIONS / "perceptron.py").read_text())
    (upload / "activations.py").write_text((SOLUTIONS / "activations.py").read_text().replace("z.clamp(min=0)", "z"))
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "DLKIT_PYTHON": sys.executable}
    run = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    results = json.loads((root / "results" / "results.json").read_text())
    validate_gradescope(results)
    by_module = {}
    for test in results["tests"]:
        by_module.setdefault(test["tags"][0], []).append(test)
    assert all(t["score"] == t["max_score"] for t in by_module["perceptron"])
    relu = [t for t in by_module["activations"] if t["tags"][1] == "relu"]
    assert relu and all(t["score"] == 0 for t in relu)
    assert all(t["score"] == 0 for t in by_module["mlp"])


def test_setup_sh_uses_cpu_wheels_and_refuses_an_old_python(tmp_path):
    archive = build_zip(tmp_path / "autograder.zip")
    with zipfile.ZipFile(archive) as z:
        setup = z.read("setup.sh").decode()
    command = setup.replace("\\\n", " ")  # the install command, its continuation lines joined
    install = next(line for line in command.splitlines() if "pip install -r" in line)
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in install
    python310 = next((p for p in ("/root/.pyenv/versions/3.10.13/bin/python3.10",) if os.path.exists(p)), None)
    if python310 is None:
        return
    shims = tmp_path / "bin"  # apt-get does nothing here, and python3 is a 3.10
    shims.mkdir()
    (shims / "apt-get").write_text("#!/bin/sh\nexit 0\n")
    (shims / "apt-get").chmod(0o755)
    (shims / "python3").symlink_to(python310)
    script = tmp_path / "setup.sh"
    script.write_text(setup)
    run = subprocess.run(["bash", str(script)], env={**os.environ, "PATH": f"{shims}:/usr/bin:/bin"},
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and "needs Python 3.11 or newer" in run.stderr, run.stderr
