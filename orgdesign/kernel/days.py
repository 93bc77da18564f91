"""Days written by people and programs: one strict reading of ``YYYY-MM-DD`` for every
``as_of``, date filter and uploaded cell. Python's ``date.fromisoformat`` alone also takes
``20250101`` and ``0001-01-01`` (where date arithmetic then overflows), so the format and
the range are checked here, before anything computes with the day."""

import calendar
import datetime
import re

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from rest_framework import serializers

EARLIEST = datetime.date(1900, 1, 1)
LATEST = datetime.date(2100, 12, 31)
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def add_months(day: datetime.date, months: int) -> datetime.date:
    """``day`` moved ``months`` calendar months on (the 31st becomes the month's last day)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def monday(day: datetime.date) -> datetime.date:
    """The Monday of ``day``'s week (weeks run Monday to Sunday, as ISO 8601 has them)."""
    return day - datetime.timedelta(days=day.weekday())


class BadDay(ValueError):
    """What was written is not a day in range; ``str()`` says why, for the person."""


def read_day(raw, *, earliest=EARLIEST, latest=LATEST) -> datetime.date:
    """The day ``raw`` names, or :class:`BadDay` with the reason."""
    text = str(raw).strip()
    try:
        if not _DAY.fullmatch(text):
            raise ValueError(text)
        day = datetime.date.fromisoformat(text)
    except ValueError:
        raise BadDay(f"“{text[:40]}” is not a date: write it in the format YYYY-MM-DD.") from None
    if day < earliest:
        raise BadDay(f"Give a date from {earliest.isoformat()} on.")
    if day > latest:
        raise BadDay(f"Give a date up to {latest.isoformat()}.")
    return day


def parse_day(raw, *, name: str = "as_of", earliest=EARLIEST, latest=LATEST) -> datetime.date:
    """:func:`read_day`, refused as a ValidationError naming the field ``name``."""
    try:
        return read_day(raw, earliest=earliest, latest=latest)
    except BadDay as problem:
        raise ValidationError({name: str(problem)}) from None


# --- the same reading for forms, filters and serializers ------------------------------------
# Django's and DRF's date fields parse with ``date.fromisoformat`` (``20250101`` passes, and so
# does ``2025-W01-1``); these take only what :func:`read_day` takes.


class DayFormField(forms.DateField):
    """A form field (and django-filter's) for a day written YYYY-MM-DD, 1900 to 2100."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime.date):
            return value
        try:
            return read_day(value)
        except BadDay as problem:
            raise ValidationError(str(problem), code="invalid") from None


class DayFilter(django_filters.DateFilter):
    field_class = DayFormField


class DayField(serializers.DateField):
    """A serializer field for a day written YYYY-MM-DD, 1900 to 2100."""

    def to_internal_value(self, value):
        if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
            return value
        try:
            return read_day(value)
        except BadDay as problem:
            raise serializers.ValidationError(str(problem), code="invalid") from None


class StrictDaysSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose model date fields read days as :class:`DayField` does."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateField: DayField,
    }
