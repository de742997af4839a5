"""Data: benchmark files and their readers (``files.py``), task sources declared as data
(``sources.py``: checked, reshaped, grouped or several subsets), the one round-robin interleave
(``interleave.py``), and data generated here (DeepMind Mathematics).
"""
