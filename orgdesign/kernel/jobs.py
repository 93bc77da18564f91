"""Background jobs that a lower layer asks for and a higher layer supplies.

A service must not import the Celery tasks that call services (the tasks sit above them),
yet it must be able to ask for one after its transaction commits. It names the job it needs
with a :class:`Job`; the app's ``AppConfig.ready()`` hands the task to it::

    # staffing/spans/marks.py
    RECOMPUTE = Job("recompute the marked positions' span findings")
    ...
    RECOMPUTE.apply_async(countdown=5)

    # staffing/apps.py, ready()
    marks.RECOMPUTE.provide(tasks.recompute_pending_spans)
"""

from __future__ import annotations

from typing import Any, Protocol

from django.core.exceptions import ImproperlyConfigured


class Sendable(Protocol):
    def apply_async(self, *args: Any, **kwargs: Any) -> Any: ...


class Job:
    def __init__(self, what: str) -> None:
        self.what = what
        self._task: Sendable | None = None

    def provide(self, task: Sendable) -> None:
        self._task = task

    @property
    def task(self) -> Sendable:
        if self._task is None:
            raise ImproperlyConfigured(f"No task is provided to {self.what} (AppConfig.ready).")
        return self._task

    def apply_async(self, *args: Any, **kwargs: Any) -> Any:
        """Send the job (Celery's ``apply_async``; in-process when no broker is set)."""
        return self.task.apply_async(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<Job {self.what}: {getattr(self._task, 'name', None)}>"
