"""What the admin's forms share: checking a form by running its service and rolling back."""

from collections.abc import Callable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction


class _DryRun(Exception):
    pass


def dry_run(form, service_call: Callable[[], object]) -> None:
    """Run ``service_call`` (the save the form stands for) in a transaction that is rolled
    back, so the service's refusals show on the form before anything is saved: messages
    under their fields where the form has them, the rest above the form."""
    try:
        with transaction.atomic():
            service_call()
            raise _DryRun
    except _DryRun:
        pass
    except PermissionDenied as error:
        raise ValidationError(str(error)) from error
    except ValidationError as error:
        raise ValidationError(_by_field(error, form.fields)) from error


def _by_field(error: ValidationError, fields) -> dict | list:
    if not hasattr(error, "error_dict"):
        return error.messages
    out: dict = {}
    for key, errors in error.message_dict.items():
        out.setdefault(key if key in fields else "__all__", []).extend(errors)
    return out
