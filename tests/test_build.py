"""One build regenerates exercises/, source/'s generated cells and release/; the committed files are current."""

from autograder.build.run import build


def test_generated_files_are_up_to_date():
    stale = build(check=True, progress=lambda message: None)
    assert not stale, f"run `dlkit build` and commit: {stale}"


# ---------------------------------------------------------------------------------------------
# Reference pictures (autograder/build/pictures.py): the build reuses the committed pictures while
# the recipe that drew them is unchanged, so here one notebook is drawn again and compared with
# them, pixels within a tolerance (float results, and so a few pixels, may differ across CPUs).

import base64  # noqa: E402
import io  # noqa: E402

import nbformat  # noqa: E402
import numpy as np  # noqa: E402

from autograder.build import pictures  # noqa: E402
from autograder.syllabus import BY_MODULE, RELEASE, SOURCE  # noqa: E402

REDRAWN = "backprop"  # two pictures, drawn in a few seconds


def pixels(png_base64: str) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(base64.b64decode(png_base64))).convert("RGB"), dtype=np.int16)


def test_committed_pictures_are_what_the_solutions_draw():
    assignment = BY_MODULE[REDRAWN]
    source = nbformat.read(SOURCE / assignment.folder / assignment.notebook, as_version=4)
    cells = pictures.mark_student_plots(pictures.cells_to_run(source), assignment.items)
    committed = pictures.committed_pictures(RELEASE / assignment.folder / assignment.notebook,
                                            pictures.fingerprint(cells))
    assert committed, "the release's pictures were drawn by another recipe: run `dlkit build`"
    drawn = pictures.render(cells, assignment.folder)
    assert drawn.keys() == committed.keys()
    for cell_id, images in drawn.items():
        assert len(images) == len(committed[cell_id]), cell_id
        for new, old in zip(images, committed[cell_id]):
            a, b = pixels(new), pixels(old)
            assert a.shape == b.shape, f"cell {cell_id}: picture of size {a.shape}, committed {b.shape}"
            off = np.abs(a - b).max(axis=2) > 64
            assert off.mean() < 0.005, f"cell {cell_id}: {off.mean():.2%} of the pixels differ"


def test_student_plots_get_pictures_and_other_cells_none():
    """A plot cell gets a picture when it uses a graded name, or a name bound from one before."""
    cells = [{"id": "s", "role": "setup", "source": "import torch"},
             {"id": "a", "role": "answer", "source": "def train(X):\n    return helper(X)\ndef helper(X):\n    return X"},
             {"id": "p1", "role": "free", "source": "plot(torch.ones(3))"},
             {"id": "p2", "role": "free", "source": "params, losses = train(1)"},
             {"id": "p3", "role": "free", "source": "for k in losses:\n    plot(k)"},
             {"id": "p4", "role": "free", "source": "plot(helper(2))"},
             {"id": "p5", "role": "free", "source": "import math\nplot(math.pi)"}]
    marked = {c["id"]: c["picture"] for c in pictures.mark_student_plots(cells, ("train",))}
    assert marked == {"s": False, "a": False, "p1": False, "p2": True, "p3": True, "p4": True, "p5": False}
