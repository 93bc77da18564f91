"""Roles as schema.org ``Occupation`` JSON-LD (``?format=jsonld``), for HR tools that read
linked data. A list is an ``ItemList`` of occupations, in the page's order."""

from rest_framework.renderers import JSONRenderer

CONTEXT = "https://schema.org"


def occupation(role: dict) -> dict:
    """One role, as the serializer shows it, as a schema.org Occupation."""
    item = {
        "@type": "Occupation",
        "@id": role["url"].split("?")[0],  # the resource, not this format of it
        "identifier": role["code"],
        "name": role["name"],
        "description": role["summary"],
        "responsibilities": role["responsibilities"],
        "skills": [skill["name"] for skill in role["skills"]],
        "occupationalCategory": role["track_display"],
    }
    if role.get("occupation_code"):
        item["occupationalCategory"] = {
            "@type": "CategoryCode",
            "codeValue": role["occupation_code"],
            "inCodeSet": role["occupation_code_system"],
            "name": role["name"],
        }
    if role["external_hire"] and role["external_hire"] != "—":
        item["experienceRequirements"] = {
            "@type": "OccupationalExperienceRequirements",
            "description": role["external_hire"],
            **(
                {"monthsOfExperience": int(float(role["external_hire_years_min"]) * 12)}
                if role.get("external_hire_years_min") is not None
                else {}
            ),
        }
    if role["paths_in"]:
        item["qualifications"] = [
            f"{path['months']} as {path['from_role']['name']}" for path in role["paths_in"]
        ]
    return item


class OccupationJsonLdRenderer(JSONRenderer):
    media_type = "application/ld+json"
    format = "jsonld"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None and response.status_code >= 400:
            return super().render(data, accepted_media_type, renderer_context)
        if isinstance(data, dict) and "results" in data:
            data = {
                "@context": CONTEXT,
                "@type": "ItemList",
                "numberOfItems": data["count"],
                "itemListElement": [occupation(role) for role in data["results"]],
                **({"nextPage": data["next"]} if data.get("next") else {}),
            }
        elif isinstance(data, list):
            data = {
                "@context": CONTEXT,
                "@type": "ItemList",
                "numberOfItems": len(data),
                "itemListElement": [occupation(role) for role in data],
            }
        else:
            data = {"@context": CONTEXT, **occupation(data)}
        return super().render(data, accepted_media_type, renderer_context)
