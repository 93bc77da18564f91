"""Infrastructure views: the health endpoint."""

import time

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def _check_database() -> dict:
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:
        return {"status": "down", "error": error.__class__.__name__}
    return {
        "status": "ok",
        "vendor": connection.vendor,
        "ms": round((time.perf_counter() - started) * 1000, 1),
    }


def _check_broker() -> dict:
    if not settings.CELERY_BROKER_URL:
        return {"status": "in-process", "detail": "no broker configured; tasks run in-process"}
    from orgdesign.celery import app

    started = time.perf_counter()
    try:
        with app.connection_for_write(url=settings.CELERY_BROKER_URL) as conn:
            conn.ensure_connection(max_retries=0, timeout=1)
    except Exception as error:
        return {"status": "down", "error": error.__class__.__name__}
    return {"status": "ok", "ms": round((time.perf_counter() - started) * 1000, 1)}


@never_cache
@require_GET
def health(request):
    """Database and broker status. 200 while the database answers: edits still commit when
    the broker is down (work is caught up later), so a down broker degrades, not fails."""
    database, broker = _check_database(), _check_broker()
    status = "ok" if database["status"] == "ok" and broker["status"] != "down" else "degraded"
    if database["status"] != "ok":
        status = "down"
    return JsonResponse(
        {"status": status, "database": database, "broker": broker},
        status=503 if status == "down" else 200,
    )


def not_found(request, exception=None):
    """404: JSON under /api/ (clients parse it), the usual page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    """500: JSON under /api/, the usual page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Server error; it has been logged."}, status=500)
    return defaults.server_error(request)
