"""Student ids, and the folder of the output where each student's results go.

A student's id is the name of their submission folder, whatever it is: every name a file system
allows is accepted. Results go to ``DIR/<id>/`` (the contract) when the id is an ordinary name.
Any other id gets a folder whose name no id can take, ``DIR/_id-<readable part>-<hash of the id>``,
and its ``results.json`` records the id itself (``extra_data.dlkit_student``), as ``grades.csv``
does. That is the case of an id that

- is one of the output's own names (``grades.csv``, ``report``, ``grader.log``, in any case), or
  starts with a dot (hidden; the kit's temporary files start with one) or with ``_id-``;
- holds a character that does not belong in a file listing: control or format characters (a
  newline, an escape, a right-to-left override), bytes that are not UTF-8;
- starts or ends with white space, or is longer than ``MAX_PLAIN_BYTES`` in UTF-8;
- differs only in letter case or Unicode normalisation from another id of the same batch (they
  would share a folder on a case-insensitive file system): the first in code-point order keeps
  the plain folder;
- names something the output folder already holds that is not a folder (a file, a symbolic link).
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata

RESERVED = frozenset({"grades.csv", "report", "grader.log"})  # what the kit writes beside the students
SAFE_PREFIX = "_id-"
MAX_PLAIN_BYTES = 128
HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def student_id(name: str) -> str:
    """The id of the submission folder called ``name``: the name, with bytes that are not UTF-8
    written as ``\\xNN`` (Python holds them as lone surrogates, which no UTF-8 file can store)."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def printable(student: str) -> str:
    """The id for a terminal or a log line: control and format characters escaped as ``\\n``,
    ``\\x1b``, ``\\u202e``..., so an id can neither break a line nor send terminal escapes."""
    return "".join(repr(c)[1:-1] if unicodedata.category(c) in HIDDEN_CATEGORIES else c for c in student)


def is_plain(name: str) -> bool:
    """Whether ``DIR/<name>/`` is safe as the folder of the submission folder called ``name``."""
    return (name != "" and name.casefold() not in RESERVED and not name.startswith((".", SAFE_PREFIX))
            and name == name.strip() and printable(name) == name
            and len(os.fsencode(name)) <= MAX_PLAIN_BYTES)


def safe_folder(name: str) -> str:
    """A folder name for the submission folder ``name`` that no plain name can take and no other
    name maps to (the hash is of the name's bytes)."""
    readable = re.sub(r"[^\w.@+=-]+", "_", unicodedata.normalize("NFKC", printable(student_id(name))))
    readable = readable.strip("._")[:40] or "student"
    digest = hashlib.sha256(os.fsencode(name)).hexdigest()[:16]
    return f"{SAFE_PREFIX}{readable}-{digest}"


def comparison_key(name: str) -> str:
    """Names that a case- or normalisation-insensitive file system would see as one."""
    return unicodedata.normalize("NFC", name).casefold()


def output_folders(names: list[str], occupied: frozenset[str] = frozenset()) -> dict[str, str]:
    """The output folder of each submission folder name of one batch (names are distinct);
    ``occupied``: names the output already holds as something else than a student's folder."""
    folders: dict[str, str] = {}
    taken: set[str] = set()
    for name in sorted(names):
        key = comparison_key(name)
        if is_plain(name) and key not in taken and name not in occupied:
            folders[name] = name
            taken.add(key)
        else:
            folders[name] = safe_folder(name)
    return folders
