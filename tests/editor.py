"""A separate process that edits the org through the services, as a web request would:
``python -m tests.editor MANAGER_ID COUNT``.

Started by tests/test_spans.py with CELERY_BROKER_URL pointing at a broker that is down.
Adds COUNT vacant agent positions under the manager, one transaction each, and prints one JSON
line: the seconds each edit took (commit and after-commit work included) and any errors.
"""

import json
import os
import sys
import time


def main(manager_id: int, count: int) -> dict:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orgdesign.settings")
    django.setup()
    from roles.models import Role
    from staffing.models import Position
    from staffing.services import position_create

    manager = Position.objects.get(pk=manager_id)
    role = Role.objects.get(code="advocate")
    seconds, errors = [], []
    for n in range(count):
        started = time.perf_counter()
        try:
            position_create(actor=None, parent=manager, title=f"New agent {n}", role=role)
        except Exception as error:  # reported to the test, which fails
            errors.append(f"{error.__class__.__name__}: {error}")
        seconds.append(time.perf_counter() - started)
    return {"seconds": seconds, "errors": errors}


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]), int(sys.argv[2]))))
