"""Find task declarations.

Built-in declarations are the modules of the ``tasks/`` folder, installed as the package
``tulu_eval.tasks`` (so they are found after a plain ``pip install .``). Users add their own
with ``--include-path DIR``: every ``*.py`` file there is loaded the same way. A declaration
module defines ``TASK`` (one task) or ``TASKS`` (a list).
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import sys
from pathlib import Path
from typing import Iterable

from .api.labels import SUITES
from .api.task import GenerationTask
from .errors import UserError


def _tasks_of(module) -> list[GenerationTask]:
    found = []
    if hasattr(module, "TASK"):
        found.append(module.TASK)
    found.extend(getattr(module, "TASKS", []))
    return found


def _builtin_modules():
    import tulu_eval.tasks as pkg  # noqa: PLC0415

    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda i: i.name):
        if not info.name.startswith("_"):
            yield importlib.import_module(f"{pkg.__name__}.{info.name}")


def _modules_in(directory: Path):
    if not directory.is_dir():
        raise UserError(f"--include-path {directory} is not a folder")
    for path in sorted(directory.glob("*.py")):
        if path.name.startswith("_"):
            continue
        mod_name = f"tulu_eval_user_tasks.{path.stem}"
        spec = importlib.util.spec_from_file_location(mod_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[mod_name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            raise UserError(f"{path}: cannot load task declaration ({type(exc).__name__}: {exc})") from None
        yield module


class Registry:
    def __init__(self, include_paths: Iterable[str | Path] = ()):
        self.tasks: dict[str, GenerationTask] = {}
        self._aliases: dict[str, str] = {}
        modules = list(_builtin_modules())
        for p in include_paths:
            modules.extend(_modules_in(Path(p).expanduser()))
        for module in modules:
            for task in _tasks_of(module):
                self._add(task, module.__name__)

    def _add(self, task: GenerationTask, origin: str) -> None:
        if task.name in self.tasks:
            raise UserError(f"task {task.name!r} from {origin} is declared twice")
        self.tasks[task.name] = task
        for alias in (task.full_name, *task.aliases):
            self._aliases[alias] = task.name

    def get(self, name: str) -> GenerationTask:
        key = self._aliases.get(name, name)
        if key not in self.tasks:
            raise UserError(f"unknown task {name!r}; known tasks: {', '.join(sorted(self.tasks))}")
        return self.tasks[key]

    def suite(self, suite: str) -> list[GenerationTask]:
        if suite not in SUITES:
            raise UserError(f"unknown suite {suite!r}; known suites: {', '.join(SUITES)}")
        return [t for t in self.tasks.values() if t.suite == suite]

    def select(self, suite: str | None = None, tasks: str | None = None) -> list[GenerationTask]:
        """Tasks named by ``--suite`` (comma-separated suites) and/or ``--tasks`` (comma-separated)."""
        chosen: list[GenerationTask] = []
        for s in filter(None, (suite or "").split(",")):
            chosen.extend(self.suite(s.strip()))
        for name in filter(None, (tasks or "").split(",")):
            chosen.append(self.get(name.strip()))
        if not chosen:
            raise UserError("nothing to run: pass --suite dev|unseen or --tasks NAME[,NAME...]")
        unique = {t.name: t for t in chosen}
        return list(unique.values())
