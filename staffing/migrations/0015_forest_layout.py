from django.db import migrations


def split_into_divisions(apps, schema_editor):
    """One django-mptt tree per division (README, "The reporting tree"), from the parents."""
    from staffing.tree import compute_layout

    Position = apps.get_model("staffing", "Position")
    Role = apps.get_model("roles", "Role")
    divisions = set(Role.objects.filter(heads_division=True).values_list("pk", flat=True))
    rows = list(Position.objects.values_list("pk", "parent_id", "role_id", "tree_id", "lft"))
    if not rows:
        return
    heads = {pk for pk, _parent, role, *_ in rows if role in divisions}
    layout = compute_layout(
        [(pk, parent, (tree_id, lft, pk)) for pk, parent, _role, tree_id, lft in rows],
        heads=heads,
    )
    Position.objects.update(tree_id=0)  # out of the way of the new numbers
    objs = []
    for pk, place in layout.fields.items():
        objs.append(
            Position(
                pk=pk,
                tree_id=place.tree_id,
                lft=place.lft,
                rght=place.rght,
                level=place.level,
                tree_parent_id=place.tree_parent,
                trees_under=place.trees_under,
            )
        )
    fields = ["tree_id", "lft", "rght", "level", "tree_parent", "trees_under"]
    Position.objects.bulk_update(objs, fields, batch_size=2000)


class Migration(migrations.Migration):
    """Apart from 0014: the new columns' indexes and constraints are created at the end of
    that migration, which PostgreSQL refuses after rows were updated in its transaction."""

    dependencies = [
        ("staffing", "0014_forest"),
    ]

    operations = [
        migrations.RunPython(split_into_divisions, migrations.RunPython.noop),
    ]
