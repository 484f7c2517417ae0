"""Which submission folders a command grades (``dlkit grade``, ``dlkit similarity``)."""

from __future__ import annotations

from pathlib import Path

from autograder.grading.ids import printable, student_id


def grade_folders(submissions: list[Path], out: Path, say) -> tuple[list[Path], int]:
    """The submission folders to grade, and how many paths given were refused (each with a message).

    The student id is the folder's name: a second folder of the same name is refused (the same
    folder given twice is graded once); any name is accepted (grading/ids.py says where odd ones go)."""
    folders: list[Path] = []
    names: dict[str, Path] = {}
    refused = 0
    for path in submissions:
        where = printable(str(path))
        folder = path.resolve()
        if not path.is_dir():
            say(f"cannot grade {where}: not a folder")
        elif not folder.name:
            say(f"cannot grade {where}: the folder has no name to use as the student id")
        elif out.resolve() == folder or out.resolve() in folder.parents:
            say(f"cannot grade {where}: it is inside the output folder")
        elif folder.name in names:
            if names[folder.name] == folder:
                continue
            say(f"cannot grade {where}: {printable(str(names[folder.name]))} has the same name, and the folder's "
                f"name is the student id ({printable(student_id(folder.name))}); rename one of them")
        else:
            names[folder.name] = folder
            folders.append(folder)
            continue
        refused += 1
    return folders, refused
