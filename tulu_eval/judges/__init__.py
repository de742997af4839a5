"""Model judges' prompts and verdict parsers (AlpacaEval's pairwise annotator, the safety refusal
classifier); ``tulu_eval/engine/judge.py`` runs them, ``tulu_eval/scoring/judged.py`` scores their verdicts.
"""
