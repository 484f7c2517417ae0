"""dlkit's instructor side: build, hidden suites, sandboxed grading and reports.

Never shipped to students: this package holds the reference's location, the
hidden tests and the grader.
"""

import sys

# nbformat imports jsonschema, which then builds an IRI grammar (rfc3987-syntax, installed with
# Jupyter's jsonschema[format-nongpl]) at import: 1.4 s and more in every grader process, CLI run and
# notebook kernel that grades. Nothing here validates "iri" formats, so jsonschema is told the
# optional package is absent (it then skips those two format checks); an earlier import keeps it.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
