"""Catalogue changes that move span-of-control findings.

The role catalogue (``roles``) sits below ``staffing`` and must not import it, so staffing
listens: when a span rule is saved or deleted, or its allowed reports change, or one of its
limits per kind of report (saved, deleted, its roles changed), every position of that role is
marked for a recompute, in the same transaction as the change.
"""

from django.db.models.signals import m2m_changed, post_delete, post_save

from roles.models import SpanLimit, SpanRule
from staffing.models import Position
from staffing.spans import marks


def _mark_role(role_id: int | None) -> None:
    if role_id is not None:
        marks.mark(Position.objects.filter(role_id=role_id).values_list("pk", flat=True))


def rule_saved(sender, instance: SpanRule, raw: bool = False, **kwargs) -> None:
    if not raw:  # fixtures load without side effects
        _mark_role(instance.role_id)


def rule_deleted(sender, instance: SpanRule, **kwargs) -> None:
    _mark_role(instance.role_id)


def allowed_reports_changed(sender, instance, action: str, reverse: bool, pk_set, **kwargs):
    if not reverse:
        if action in ("post_add", "post_remove", "post_clear"):
            _mark_role(instance.role_id)
        return
    # Changed from the role's side (role.may_report_to_rules): the rules touched are those in
    # pk_set, or on a clear those linked just before it.
    if action in ("post_add", "post_remove"):
        rules = SpanRule.objects.filter(pk__in=pk_set)
    elif action == "pre_clear":
        rules = instance.may_report_to_rules.all()
    else:
        return
    for role_id in rules.values_list("role_id", flat=True):
        _mark_role(role_id)


def limit_saved(sender, instance: SpanLimit, raw: bool = False, **kwargs) -> None:
    if not raw:
        _mark_rule(instance.rule_id)


def limit_deleted(sender, instance: SpanLimit, **kwargs) -> None:
    _mark_rule(instance.rule_id)  # the rule's own deletion marks its role as well


def limit_roles_changed(sender, instance, action: str, reverse: bool, pk_set, **kwargs):
    if not reverse:
        if action in ("post_add", "post_remove", "post_clear"):
            _mark_rule(instance.rule_id)
        return
    # changed from the role's side (role.span_limits)
    if action in ("post_add", "post_remove"):
        limits = SpanLimit.objects.filter(pk__in=pk_set)
    elif action == "pre_clear":
        limits = instance.span_limits.all()
    else:
        return
    for rule_id in set(limits.values_list("rule_id", flat=True)):
        _mark_rule(rule_id)


def _mark_rule(rule_id: int | None) -> None:
    role_id = SpanRule.objects.filter(pk=rule_id).values_list("role_id", flat=True).first()
    _mark_role(role_id)


def connect() -> None:
    post_save.connect(rule_saved, sender=SpanRule, dispatch_uid="staffing.spans.rule_saved")
    post_delete.connect(rule_deleted, sender=SpanRule, dispatch_uid="staffing.spans.rule_deleted")
    m2m_changed.connect(
        allowed_reports_changed,
        sender=SpanRule.allowed_reports.through,
        dispatch_uid="staffing.spans.allowed_reports_changed",
    )
    post_save.connect(limit_saved, sender=SpanLimit, dispatch_uid="staffing.spans.limit_saved")
    post_delete.connect(
        limit_deleted, sender=SpanLimit, dispatch_uid="staffing.spans.limit_deleted"
    )
    m2m_changed.connect(
        limit_roles_changed,
        sender=SpanLimit.roles.through,
        dispatch_uid="staffing.spans.limit_roles_changed",
    )
