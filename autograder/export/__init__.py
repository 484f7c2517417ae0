"""``dlkit export``: dlkit's grades (and nbgrader's manual scores) in an LMS's gradebook import format.

``grades.py`` reads ``grades.csv`` and the points each assignment is worth; ``roster.py`` maps
dlkit ids to the LMS's ids; ``gradebook.py`` reads the manual scores of nbgrader's gradebook;
``formats.py`` lays the table out as Canvas, Moodle or a plain CSV expects it.
"""
