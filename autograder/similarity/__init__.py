"""``dlkit similarity``: pairwise code similarity per assignment, with copydetect.

Reading (``code.py``) takes each student's own code the way the grader reads it (no link
followed, sizes bounded): ``<module>.py``, or a notebook's answer cells only. The course's
stubs are boilerplate (``boilerplate.py``). copydetect fingerprints and compares every pair of one
assignment (``compare.py``); ``report.py`` writes the CSV and the HTML report.
"""
