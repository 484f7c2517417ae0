"""exercises/: the student package imports cleanly; its public checks pass on the reference and fail
on the stubs; the check command gives a per-function summary."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from autograder.syllabus import EXERCISES, MODULES, SOLUTIONS


def student_folder(tmp_path, modules_dir):
    """exercises/ as a student has it, with the modules taken from ``modules_dir``."""
    folder = tmp_path / "student"
    (folder / "tests").mkdir(parents=True)
    for name in ("check.py", "pytest.ini"):
        (folder / name).write_text((EXERCISES / name).read_text())
    if (EXERCISES / "_kit").is_dir():  # the grader's import rule and the ready-made modules, for check.py
        shutil.copytree(EXERCISES / "_kit", folder / "_kit")
    for module in MODULES:
        (folder / f"{module}.py").write_text((modules_dir / f"{module}.py").read_text())
        (folder / "tests" / f"test_{module}.py").write_text((EXERCISES / "tests" / f"test_{module}.py").read_text())
    return folder


def run_public_checks(folder, *args):
    return subprocess.run([sys.executable, "-m", "pytest", "-q", *args], cwd=folder, capture_output=True,
                          text=True, timeout=600)


def test_every_stub_imports_cleanly_and_raises_not_implemented():
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import importlib\n"
            "for m in sys.argv[2:]: importlib.import_module(m)\n")
    run = subprocess.run([sys.executable, "-c", code, str(EXERCISES), *MODULES], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    for module in MODULES:
        text = (EXERCISES / f"{module}.py").read_text()
        assert "### BEGIN SOLUTION" not in text and "NotImplementedError" in text


def test_the_stubs_keep_the_reference_api_and_docstrings():
    import ast
    for module in MODULES:
        ref = ast.parse((SOLUTIONS / f"{module}.py").read_text())
        stub = ast.parse((EXERCISES / f"{module}.py").read_text())
        ref_defs = {n.name: n for n in ast.walk(ref) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        stub_defs = {n.name: n for n in ast.walk(stub) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        assert set(ref_defs) <= set(stub_defs), module
        for name, node in ref_defs.items():
            assert ast.get_docstring(node) == ast.get_docstring(stub_defs[name]), f"{module}.{name}"
            if isinstance(node, ast.FunctionDef):
                assert ast.dump(node.args) == ast.dump(stub_defs[name].args), f"{module}.{name}"


def test_public_checks_pass_on_the_reference(tmp_path):
    run = run_public_checks(student_folder(tmp_path, SOLUTIONS))
    assert run.returncode == 0, run.stdout[-3000:]


def test_public_checks_all_fail_on_the_stubs(tmp_path):
    run = run_public_checks(student_folder(tmp_path, EXERCISES), "-rA")
    assert " passed" not in run.stdout.splitlines()[-1], run.stdout[-3000:]
    assert "PASSED" not in run.stdout


def test_the_check_command_summarises_per_function(tmp_path):
    run = subprocess.run([sys.executable, str(EXERCISES / "check.py"), "activations"], cwd=EXERCISES,
                         capture_output=True, text=True, timeout=300, env={**os.environ, "COLUMNS": "160"})
    assert run.returncode == 1
    assert "activations.softmax" in run.stdout and "not implemented yet" in run.stdout
    assert "0 of" in run.stdout and "public points" in run.stdout and "hidden tests" in run.stdout
    # the same command on the reference: every public check passes, and it does not oversell that
    folder = student_folder(tmp_path, SOLUTIONS)
    good = subprocess.run([sys.executable, str(folder / "check.py")], cwd=folder, capture_output=True,
                          text=True, timeout=300, env={**os.environ, "COLUMNS": "160"})
    assert good.returncode == 0, good.stdout
    assert "Every public check passed" in good.stdout and "hidden tests" in good.stdout
