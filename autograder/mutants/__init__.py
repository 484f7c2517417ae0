"""Mutation testing of the hidden suites: the catalogue (``catalogue.py``, the TOML shelves beside it)
and its verdict (``mutation.py``)."""
