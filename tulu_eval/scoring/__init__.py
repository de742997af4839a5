"""Metrics: per-instance means with standard errors and paired tests (``metrics.py``), pass@k,
suite averages, AlpacaEval's length-controlled win rate, the records of judged tasks.
"""
