"""The name the course notebooks' hidden-test cells import until the next build rewrites them:
the code is ``autograder/grading/in_kernel.py``."""

from autograder.grading.in_kernel import hidden_tests  # noqa: F401
