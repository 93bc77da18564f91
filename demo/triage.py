"""The synapse demo's triage rota: at every location with advocates who may triage, two of
them take this week and two the next, in turns; one location's next week is left empty on
purpose, so that the triage rota page and the dashboard show what a gap looks like."""

from django.utils import timezone

from staffing import services, triage
from staffing.models import Location

ON_DUTY = 2  # advocates on triage a week at each location
GAP_AT = "montevideo"  # the location whose next week is left without anyone


def seed_triage_rota() -> int:
    """Set this week's and next week's rota at each location (the gap at GAP_AT next week):
    the number of rota weeks written."""
    this_week, next_week = triage.judged_weeks(timezone.localdate())
    written = 0
    for location in Location.objects.order_by("name"):
        people = list(
            triage.may_triage(location)
            .order_by("holder__family_name", "holder__given_name", "holder_id")
            .values_list("holder_id", flat=True)
        )
        if not people:
            continue
        for n, week in enumerate((this_week, next_week)):
            if location.code == GAP_AT and week == next_week:
                chosen = []
            else:
                chosen = [people[(n * ON_DUTY + k) % len(people)] for k in range(ON_DUTY)]
            services.triage_week_set(actor=None, location=location, week=week, people=chosen)
            written += 1
    return written
