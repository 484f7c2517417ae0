"""nbgrader configuration of the dlkit course (the repository root is the course directory).

The gradebook (gradebook.db) is created on demand and never committed.
"""

import os

c = get_config()  # noqa: F821 - provided by nbgrader

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "dlkit"
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"

# What replaces the graded code in the student release.
c.ClearSolutions.code_stub = {
    "python": '# YOUR CODE HERE\nraise NotImplementedError("Replace this line with your code.")',
}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# A hidden-test cell that writes to stderr scores zero. The hidden tests capture what they print,
# but a warning written straight to the kernel's stderr (by PyTorch's C++ code, say) must not cost
# the student the cell: drop stderr outputs that are only warnings before grading.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"(?:UserWarning|DeprecationWarning|FutureWarning|RuntimeWarning|\[W[0-9 :]|Warning:)"
