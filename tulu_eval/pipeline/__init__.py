"""``tulu-eval pipeline``: train, evaluate each stage, and report, as one resumable plan (``run.py``)."""
