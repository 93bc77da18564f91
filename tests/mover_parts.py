"""A process that moves teams inside one part of the organization for a while:
``python -m tests.mover_parts SEED SECONDS DIRECTOR_ID [DIRECTOR_ID …]``.

Started by the forest benchmark (tests/benchmarks/test_forest_bench.py) with DATABASE_URL
pointing at its database. Each move takes a random team lead under one of the directors
given and puts it under another advocate manager of the same director, through
``staffing.services.position_move``. Prints one JSON line: the latency of every move (ms)
and the errors met.
"""

import json
import os
import random
import sys
import time


def main(seed: int, seconds: float, directors: list[int]) -> dict:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orgdesign.settings")
    django.setup()
    from staffing.models import Position
    from staffing.services import position_move

    rng = random.Random(seed)
    parts = []
    for pk in directors:
        director = Position.objects.get(pk=pk)
        inside = Position.objects.subtree_of(director, include_self=False)
        leads = list(inside.filter(role__code="team-lead").values_list("pk", flat=True))
        managers = list(inside.filter(role__code="advocate-manager").values_list("pk", flat=True))
        parts.append((leads, managers))
    latencies: list[float] = []
    errors: list[str] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        leads, managers = rng.choice(parts)
        lead = Position.objects.get(pk=rng.choice(leads))
        target = Position.objects.get(pk=rng.choice(managers))
        if lead.parent_id == target.pk:
            continue
        started = time.perf_counter()
        try:
            position_move(actor=None, position=lead, new_parent=target)
        except Exception as error:  # reported to the benchmark, which fails
            errors.append(f"{error.__class__.__name__}: {error}")
            continue
        latencies.append((time.perf_counter() - started) * 1000)
    return {"latencies": latencies, "errors": errors}


if __name__ == "__main__":
    seed, seconds, *directors = sys.argv[1:]
    print(json.dumps(main(int(seed), float(seconds), [int(d) for d in directors])))
