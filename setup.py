"""Package discovery (everything else is in pyproject.toml).

Every subpackage of ``tulu_eval`` is found, so a new one needs no entry anywhere; the two
packages that live outside the tulu_eval/ folder (``package-dir`` in pyproject.toml) are added
by name. pyproject.toml alone cannot say both: its ``packages.find`` does not follow
``package-dir`` in an editable install.
"""

from setuptools import find_packages, setup

setup(packages=find_packages(include=["tulu_eval", "tulu_eval.*"]) + ["tulu_eval.tasks", "tulu_eval.report_templates"])
