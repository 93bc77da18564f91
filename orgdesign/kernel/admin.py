"""Admin building blocks the apps share."""

from contextlib import contextmanager

from django.core.exceptions import PermissionDenied
from django.http import Http404
from simple_history.admin import SimpleHistoryAdmin


class HistoryAdmin(SimpleHistoryAdmin):
    """The admin's "History" page of an object from the audit trail, read only: a past
    version is shown but never saved back (that would bypass the services)."""

    def history_view(self, request, object_id, extra_context=None):
        with self._unseen_as_missing(request):
            return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method != "GET":
            raise PermissionDenied("Past versions are read only; change the object itself.")
        with self._unseen_as_missing(request):
            return super().history_form_view(request, object_id, version_id, extra_context)

    @contextmanager
    def _unseen_as_missing(self, request):
        """The history of an object the viewer may not see is answered like that of an
        object that never existed (404), not with a 403 that would confirm it exists."""
        try:
            yield
        except PermissionDenied:
            if self.has_view_or_change_permission(request):
                raise Http404 from None
            raise
