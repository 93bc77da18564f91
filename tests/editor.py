"""A separate process that edits the org through the services, as a web request would:
``python -m tests.editor MANAGER_ID COUNT``.

Started by tests/test_spans.py with CELERY_BROKER_URL pointing at a broker that is down.
Adds COUNT vacant agent positions under the manager, one transaction each, and prints one JSON
line: the seconds each edit took (commit and after-commit work included), how many times
each edit tried to reach the broker, the kind of result backend, and any errors.
"""

import json
import os
import sys
import time


def main(manager_id: int, count: int) -> dict:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orgdesign.settings")
    django.setup()
    from kombu import Connection

    from orgdesign.celery import app
    from roles.models import Role
    from staffing.models import Position
    from staffing.services import position_create

    tries = [0]
    connect = Connection._connection_factory

    def counted(connection):
        tries[0] += 1
        return connect(connection)

    Connection._connection_factory = counted  # every attempt to reach the broker
    manager = Position.objects.get(pk=manager_id)
    role = Role.objects.get(code="advocate")
    seconds, attempts, errors = [], [], []
    for n in range(count):
        started, tries[0] = time.perf_counter(), 0
        try:
            position_create(actor=None, parent=manager, title=f"New agent {n}", role=role)
        except Exception as error:  # reported to the test, which fails
            errors.append(f"{error.__class__.__name__}: {error}")
        seconds.append(time.perf_counter() - started)
        attempts.append(tries[0])
    backend = type(app.backend).__name__
    return {"seconds": seconds, "attempts": attempts, "backend": backend, "errors": errors}


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]), int(sys.argv[2]))))
