"""A separate process that moves random teams: ``python -m tests.mover SEED MOVES``.

Started by tests/test_tree_concurrency.py with DATABASE_URL pointing at the test database.
Prints one JSON line: moves done, moves refused as loops, unexpected errors, and the kinds
of move made (within a tree, between trees, of a tree root, above the split).
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
    kinds: set[str] = set()
    for _ in range(moves):
        # a division head or a team with divisions below it now and then, else anyone
        pick = rng.random()
        movable = Position.objects.filter(parent__isnull=False)
        if pick < 0.15:
            movable = movable.filter(tree_parent__isnull=True)
        elif pick < 0.3:
            movable = movable.filter(trees_under__gt=0)
        choices = list(movable.values_list("pk", flat=True)) if pick < 0.3 else ids
        node = Position.objects.get(pk=rng.choice(choices or ids))
        target = Position.objects.get(pk=rng.choice(ids))
        if node.parent_id is None:
            continue
        kind = {
            "a tree root": node.tree_parent_id is None,
            "above the split": node.trees_under > 0,
            "between trees": node.tree_id != target.tree_id,
            "within a tree": node.tree_id == target.tree_id,
        }
        try:
            position_move(actor=None, position=node, new_parent=target)
            done += 1
            kinds.update(name for name, met in kind.items() if met)
        except ValidationError as error:  # a loop, perhaps made by another process meanwhile
            found = {e.code for errs in getattr(error, "error_dict", {}).values() for e in errs}
            if found == {"cycle"}:
                refused += 1
            else:
                errors.append(f"ValidationError: {error}")
        except Exception as error:  # reported to the test, which fails
            errors.append(f"{error.__class__.__name__}: {error}")
    return {"moved": done, "refused": refused, "errors": errors, "kinds": sorted(kinds)}


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]), int(sys.argv[2]))))
