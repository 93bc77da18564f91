"""The OpenAPI schema's conventions (settings.REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"])."""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema

ERROR_BODY = {
    "type": "object",
    "additionalProperties": True,
    "description": "`detail` with a reason, or messages by field name.",
}
ERRORS = {
    "400": "Bad input: messages by field (or `non_field_errors`).",
    "401": "No credentials, or a bad, expired or revoked token.",
    "403": "Not allowed: a read-only token, or outside your part of the organization.",
    "404": "No such object among those you can see.",
    "409": "The data's present state forbids this (e.g. the position still has reports).",
    "429": "Too many requests with this token; retry after the Retry-After header.",
}
CSV_ERROR = {"type": "string", "description": "CSV with one `error` column."}
OTHER_FORMATS = {
    "text/csv": {"type": "string", "description": "CSV: one row per object, a header row."},
    "application/ld+json": {
        "type": "object",
        "additionalProperties": True,
        "description": "schema.org JSON-LD (an ItemList of Occupations, or one Occupation).",
    },
}


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema plus what every operation may answer besides success (so a
    client, and schemathesis, knows the error codes) and plain schemas for CSV and JSON-LD."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for response in responses.values():
            for media_type, body in response.get("content", {}).items():
                if media_type in OTHER_FORMATS:
                    body["schema"] = OTHER_FORMATS[media_type]
        writes = self.method in ("POST", "PUT", "PATCH", "DELETE")
        codes = ["400", "401", "403", "404", "429"]  # 404 also for a page past the end
        if writes:
            codes.append("409")
        # an error is answered in the format asked for (?format=csv), even where success
        # has no body (a delete's 204)
        media_types = {
            media_type
            for response in responses.values()
            for media_type in response.get("content", {})
        } | {r.media_type for r in self.view.get_renderers() if r.format != "api"}
        error_content = {
            media_type: {"schema": CSV_ERROR if media_type == "text/csv" else ERROR_BODY}
            for media_type in sorted(media_types)
        }
        error_content["application/json"] = {"schema": ERROR_BODY}
        for code in codes:
            responses.setdefault(code, {"description": ERRORS[code], "content": error_content})
        return responses
