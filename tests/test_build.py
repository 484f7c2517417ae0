"""One build regenerates exercises/, source/'s generated cells and release/; the committed files are current."""

from autograder.build.run import build


def test_generated_files_are_up_to_date():
    stale = build(check=True, progress=lambda message: None)
    assert not stale, f"run `dlkit build` and commit: {stale}"
