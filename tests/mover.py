"""A separate process that moves random teams: ``python -m tests.mover SEED MOVES``.

Started by tests/test_tree_concurrency.py with DATABASE_URL pointing at the test database.
Prints one JSON line: moves done, moves refused as loops, unexpected errors.
"""

import json
import os
import random
import sys


def main(seed: int, moves: int) -> dict:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orgdesign.settings")
    django.setup()
    from django.core.exceptions import ValidationError

    from staffing.models import Position
    from staffing.services import position_move

    rng = random.Random(seed)
    ids = list(Position.objects.values_list("pk", flat=True))
    done = refused = 0
    errors: list[str] = []
    for _ in range(moves):
        node = Position.objects.get(pk=rng.choice(ids))
        target = Position.objects.get(pk=rng.choice(ids))
        if node.parent_id is None:
            continue
        try:
            position_move(actor=None, position=node, new_parent=target)
            done += 1
        except ValidationError as error:  # a loop, perhaps made by another process meanwhile
            found = {e.code for errs in getattr(error, "error_dict", {}).values() for e in errs}
            if found == {"cycle"}:
                refused += 1
            else:
                errors.append(f"ValidationError: {error}")
        except Exception as error:  # reported to the test, which fails
            errors.append(f"{error.__class__.__name__}: {error}")
    return {"moved": done, "refused": refused, "errors": errors}


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]), int(sys.argv[2]))))
