"""Data: benchmark files and their readers (``files.py``), task sources declared as data
(``sources.py``: checked, reshaped, grouped or several subsets), the one round-robin interleave
(``interleave.py``), one module per benchmark whose rows need reading or shaping (DROP's two layouts,
MMLU, BBH, GPQA, PopQA, TruthfulQA, HumanEval, safety), and data generated here (DeepMind Mathematics).
"""
