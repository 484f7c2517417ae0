"""``python -m autograder.reports DIR``: (re)write the feedback pages and the class report of a
grading run from its ``results.json`` files."""

from __future__ import annotations

import sys
from pathlib import Path

from autograder.reports import write_reports


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not Path(args[0]).is_dir():
        print("usage: python -m autograder.reports DIR   (DIR: the --out folder of `dlkit grade`)",
              file=sys.stderr)
        return 2
    written = write_reports(Path(args[0]))
    print(f"wrote {len(written)} files; class report: {written[-1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
