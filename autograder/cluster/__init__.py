"""Grading on a Dask cluster (``dlkit grade --scheduler ADDRESS``).

The client (``client.py``) reads each submission into plain data (``data.py``) and sends it as a
task (``task.py``) to Dask workers that keep a warm sandboxed template and the reference's cached
answers for their whole life (``plugin.py``); student code runs only in the sandboxed workers that
template forks. What comes back is plain data again, checked by the client and written by the same
code as the local path (``autograder/grading/batch.py``). ``local.py`` starts a scheduler and
workers on this machine, to try it.
"""
