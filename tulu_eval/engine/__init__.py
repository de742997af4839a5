"""The engine of a run: plan (tasks -> instances), generate (one cached schedule on one backend),
judge (a second model reads the outputs), then verify and write results (``run.py``); ``rescore``
redoes the last part from a run folder.
"""
