"""Built-in task declarations: one short module per task (or task family).

Installed as the package ``tulu_eval.tasks``. Each module defines ``TASK`` or ``TASKS``; see
``tulu_eval/api/task.py`` for the fields. Adding a task is adding one file here.
"""
