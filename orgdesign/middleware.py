"""Request checks that every page, the API and the admin share."""

from django.http import HttpResponseBadRequest, JsonResponse

NUL = "\x00"
NUL_REFUSED = "Text in a request may not contain NUL characters (U+0000)."


def _has_nul(query) -> bool:
    return any(NUL in key or any(NUL in v for v in values) for key, values in query.lists())


class RejectNulMiddleware:
    """A NUL character in a query parameter or a form field is answered 400 before any
    view runs: PostgreSQL refuses it in text and SQLite would store it, so no search, filter
    or admin lookup has to think of it. (Multipart bodies are left to the forms, whose text
    fields refuse NUL themselves, so that uploads are not read here.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        form = request.content_type == "application/x-www-form-urlencoded"
        if _has_nul(request.GET) or (form and _has_nul(request.POST)):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": NUL_REFUSED}, status=400)
            return HttpResponseBadRequest(NUL_REFUSED, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
