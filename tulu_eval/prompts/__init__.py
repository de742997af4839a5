"""Prompt texts and fixed exemplars of the task declarations (one copy each): the Tülu 3
multiple-choice prompt several tasks share (``tulu3_mc.py``), and the longer texts of single tasks
(MMLU, the Minerva MATH exemplars, TruthfulQA's primer)."""
