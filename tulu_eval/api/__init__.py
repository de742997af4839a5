"""The types every step shares, so that no step imports another for them: a request and its
settings (``request.py``), what a backend returns (``outputs.py``), the task kinds the engine runs
(``task.py``, ``multiple_choice.py``, ``code_task.py``), the verifier interface (``verifier.py``), the
model-judge interface (``judge.py``), the backend registry (``backends.py``), suites and skills
(``labels.py``).
"""
