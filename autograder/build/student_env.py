"""What students install, and nothing more: pip requirements, a conda environment, a Dev Container.

The same three files go into ``exercises/`` (the .py path) and ``release/`` (the notebooks), so a
student who has only one of the two folders can set it up. They hold none of the grader: no
nbgrader, no hidden tests, no sandbox.
"""

from __future__ import annotations

import json
from pathlib import Path

from autograder.syllabus import ASSIGNMENTS, EXERCISES, RELEASE

PYTORCH = "2.13.0"  # the version the grader runs: the same numbers at home and when graded
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
PACKAGES = (f"torch=={PYTORCH}", "numpy>=1.26", "matplotlib>=3.8", "pytest>=8", "rich>=13",
            "jupyterlab>=4,<5", "ipykernel>=6")

REQUIREMENTS = f"""# Everything the exercises and the notebooks need (Python 3.10 or newer).
#   python -m pip install -r requirements.txt
# On Linux without an NVIDIA GPU, PyTorch's CPU wheels are much smaller:
#   python -m pip install -r requirements.txt --extra-index-url {CPU_INDEX}
""" + "".join(f"{package}\n" for package in PACKAGES)

ENVIRONMENT = f"""# A conda environment for the course: conda env create -f environment.yml && conda activate dlkit
name: dlkit
channels:
  - conda-forge
dependencies:
  - python=3.10
  - pip
  - pip:
      - --extra-index-url {CPU_INDEX}
""" + "".join(f"      - {package}\n" for package in PACKAGES)


def devcontainer(what: str, open_lab: bool) -> str:
    config = {
        "name": f"Deep learning from scratch: {what}",
        "image": "mcr.microsoft.com/devcontainers/python:3.10",
        "postCreateCommand": f"pip install --user -r requirements.txt --extra-index-url {CPU_INDEX}",
        "forwardPorts": [8888],
        "portsAttributes": {"8888": {"label": "JupyterLab", "onAutoForward": "openBrowser"}},
        "customizations": {"vscode": {"extensions": ["ms-python.python", "ms-toolsai.jupyter"]}},
    }
    if open_lab:
        config["postAttachCommand"] = "jupyter lab --no-browser --ip=0.0.0.0 --port=8888"
    return json.dumps(config, indent=2) + "\n"


def student_env_files() -> dict[Path, str]:
    files: dict[Path, str] = {}
    for root, what, open_lab in ((EXERCISES, "the exercises", False), (RELEASE, "the notebooks", True)):
        files[root / "requirements.txt"] = REQUIREMENTS
        files[root / "environment.yml"] = ENVIRONMENT
        files[root / ".devcontainer" / "devcontainer.json"] = devcontainer(what, open_lab)
    files[RELEASE / "README.md"] = RELEASE_README
    return files


RELEASE_README = f"""# Deep learning from scratch: the notebooks

One folder per assignment, `{ASSIGNMENTS[0].folder}/` to `{ASSIGNMENTS[-1].folder}/`, each with its notebook. Open them in
JupyterLab, read the lesson, and fill in the answer cells (replace `raise NotImplementedError(...)`);
the cell after each answer runs its visible checks.

## Set up (Python 3.10 or newer), one of:
- **conda**: `conda env create -f environment.yml && conda activate dlkit`, then `jupyter lab`.
- **venv + pip**: `python3 -m venv .venv && . .venv/bin/activate`, then
  `pip install -r requirements.txt` (on Linux without an NVIDIA GPU add
  `--extra-index-url {CPU_INDEX}`, a much smaller download), then `jupyter lab`.
- **Dev Container** (VS Code, GitHub Codespaces): open this folder in the container; it installs the
  requirements and starts JupyterLab on port 8888.
"""
