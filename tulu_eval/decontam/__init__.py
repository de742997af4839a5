"""Contamination: n-gram overlap of training data with the eval prompts (``scan.py``, ``cli.py``),
and the training manifests a run is checked against (``manifest.py``).
"""
