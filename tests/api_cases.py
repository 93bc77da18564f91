"""Generated API tests: one base class checks an endpoint's list, detail, writes, filters and
query count; each endpoint's test class only supplies data (NetBox's way). The permission
matrix (who × endpoint × in or out of scope) is built from the same endpoint classes.

Loaded as a pytest plugin (tests/conftest.py) for its fixtures.
"""

from collections.abc import Callable

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from tests.factories import Org, UserFactory, session_client

ACTORS = ("admin", "director", "manager", "hr_token", "read_token", "anonymous")


def count_queries(client: APIClient, url: str, params: dict | None = None) -> int:
    """The queries of a GET answered afresh (a catalogue answer kept from an earlier
    request is forgotten first: orgdesign.kernel.rest)."""
    caches["catalogue"].clear()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200, response.content
    return len(captured.captured_queries)


def ids_of(response) -> set[int]:
    assert response.status_code == 200, response.content
    data = response.json()
    rows = data["results"] if isinstance(data, dict) and "results" in data else data
    return {row["id"] for row in rows}


class EndpointCase:
    """Fill in the class attributes; every test below then runs against the endpoint.

    * ``url``: the list URL; ``kind``: "catalogue" (read by every signed-in caller, the
      same for all), "scoped" (filtered by the caller's part of the tree) or "summary"
      (no detail route).
    * ``objects(org)``: (an object in every scoped actor's scope, one in none), as ids.
    * ``create(org)`` / ``update(org)``: a valid payload, or None when the endpoint does
      not take that write (then it must answer 405).
    * ``filters``: (query parameters built from the org, the ids expected) pairs.
    * ``editors``: the actors whose groups hold the model permission to change the objects
      (HR reads the organization and edits none of it).
    """

    url: str = ""
    kind: str = "scoped"
    writable: bool = False
    deletable: bool = False  # DELETE of a detail removes the object (else 405)
    editors: tuple[str, ...] = ("admin", "director", "manager")  # hold the model permission
    filters: tuple[tuple[Callable[[Org], dict], Callable[[Org], set[int]]], ...] = ()

    def objects(self, org: Org) -> tuple[int, int]:
        raise NotImplementedError

    def create(self, org: Org) -> dict | None:
        return None

    def update(self, org: Org) -> dict | None:
        return None

    # --- generated tests -----------------------------------------------------------------

    def test_list_has_counts_and_the_objects(self, api_org, admin_client_api):
        inside, outside = self.objects(api_org)
        response = admin_client_api.get(self.url, {"page_size": 1000})
        data = response.json()
        assert data["count"] >= 2 and len(data["results"]) == data["count"]
        assert {inside, outside} <= ids_of(response)

    def test_detail(self, api_org, admin_client_api):
        inside, _ = self.objects(api_org)
        response = admin_client_api.get(f"{self.url}{inside}/")
        assert response.status_code == 200 and response.json()["id"] == inside
        assert admin_client_api.get(f"{self.url}999999/").status_code == 404

    def test_create(self, api_org, admin_client_api):
        payload = self.create(api_org)
        response = admin_client_api.post(self.url, payload or {}, format="json")
        if payload is None:
            assert response.status_code == 405
            return
        assert response.status_code == 201, response.content
        created = admin_client_api.get(f"{self.url}{response.json()['id']}/")
        assert created.status_code == 200
        bad = admin_client_api.post(self.url, {"nonsense": 1}, format="json")
        assert bad.status_code == 400 and bad.json()

    def test_update(self, api_org, admin_client_api):
        inside, _ = self.objects(api_org)
        payload = self.update(api_org)
        response = admin_client_api.patch(f"{self.url}{inside}/", payload or {}, format="json")
        if payload is None:
            assert response.status_code == 405
            return
        assert response.status_code == 200, response.content
        for name, value in payload.items():
            shown = response.json()[name]
            assert (shown["id"] if isinstance(shown, dict) else shown) == value

    def test_delete_removes_exactly_where_deletion_is_offered(self, api_org, admin_client_api):
        """An admin's DELETE: 204 and the object gone where the endpoint deletes; elsewhere
        405 and the object still there (refusals have their own tests, in test_org_api)."""
        inside, _ = self.objects(api_org)
        response = admin_client_api.delete(f"{self.url}{inside}/")
        assert response.status_code == (204 if self.deletable else 405), response.content
        after = admin_client_api.get(f"{self.url}{inside}/").status_code
        assert after == (404 if self.deletable else 200)

    def test_filters(self, api_org, admin_client_api):
        self.objects(api_org)  # some endpoints make their rows there
        for params, expected in self.filters:
            response = admin_client_api.get(self.url, {**params(api_org), "page_size": 1000})
            assert ids_of(response) == expected(api_org), params(api_org)

    def test_list_queries_do_not_grow_with_the_org(self, api_org, admin_client_api):
        before = count_queries(admin_client_api, self.url)
        api_org.grow()
        assert count_queries(admin_client_api, self.url) == before
        # a smaller page may skip a prefetch that has nothing to fetch, never add one
        assert count_queries(admin_client_api, self.url, {"page_size": 3}) <= before


@pytest.fixture
def admin_client_api() -> APIClient:
    return session_client(UserFactory(is_superuser=True, is_staff=True))


def matrix_expectation(case: EndpointCase, actor: str, where: str, action: str) -> int:
    """The status an actor gets: the product's access rules written as one table.

    ``where`` is "in" or "out" of the director's and the manager's scope; ``action`` is
    "list" (is the object among the results: 200 means yes, 404 means left out), "detail"
    or "update".
    """
    if actor == "anonymous":
        return 401
    scoped_out = case.kind == "scoped" and where == "out" and actor in ("director", "manager")
    if action in ("list", "detail"):
        return 404 if scoped_out else 200
    # update
    if actor == "read_token":
        return 403  # a read-only token: refused before anything else
    if not case.writable:
        return 405
    if actor not in case.editors:
        return 403  # the model permission is checked before the object is looked up
    if scoped_out:
        return 404
    return 200
