"""The OpenAPI schema: valid, in step with the routes, and honoured by the running server
(schemathesis against a live server with a token)."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.urls import get_resolver

from orgdesign.kernel.auth import TokenRateThrottle
from tests.conftest import FULL
from tests.factories import UserFactory, api_token

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts"
# examples per operation and the fewest requests a run must make: full size for make
# test-full, fewer for every run (each operation is still exercised in all three phases)
MAX_EXAMPLES = os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "40" if FULL else "10")
MIN_REQUESTS = int(os.environ.get("SCHEMATHESIS_MIN_REQUESTS", "1000" if FULL else "400"))


def generated_schema(tmp_path) -> dict:
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    return yaml.safe_load(target.read_text())


def api_routes() -> set[str]:
    """Every URL pattern under /api/ that serves data, in OpenAPI's {param} form."""
    from orgdesign.api import router

    found = set()
    for prefix, viewset, _basename in router.registry:
        for url in router.get_routes(viewset):
            if not router.get_method_map(viewset, url.mapping):
                continue  # a route the viewset does not serve (e.g. no detail)
            path = url.url.replace("^", "").replace("$", "").replace("{prefix}", prefix)
            path = path.replace("{trailing_slash}", "/").replace("{lookup}", "{id}")
            path = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", path)  # (?P<x>\d+) -> {x}
            found.add(f"/api/{path}")
    return found


def test_the_schema_validates_and_describes_every_route(tmp_path):
    schema = generated_schema(tmp_path)
    assert schema["openapi"].startswith("3.")
    paths = set(schema["paths"])
    routes = {route for route in api_routes() if "format" not in route}
    # the schema's path parameters are named after the lookup field (id, track ...)
    normalise = lambda p: p.replace("{track}", "{id}")  # noqa: E731
    assert {normalise(p) for p in paths} == {normalise(r) for r in routes}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            assert operation.get("summary") or operation.get("description"), (path, method)
    schemes = schema["components"]["securitySchemes"]
    assert schemes["tokenAuth"]["type"] == "apiKey" and schemes["tokenAuth"]["in"] == "header"
    assert schemes["tokenAuth"]["name"] == "Authorization", schemes


def test_swagger_ui_is_served_without_a_cdn(client):
    page = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/" in page
    assert "cdn" not in page.lower() and "unpkg" not in page.lower()


@pytest.mark.django_db(transaction=True)
def test_schemathesis_against_a_live_server(live_server, synapse, tmp_path, monkeypatch):
    """At least MIN_REQUESTS generated requests over every operation with a write token:
    no 5xx, every response as the schema says. On the database the suite runs on: SQLite
    for ``make test``, PostgreSQL in CI, which also runs it on SQLite (.ci/run)."""
    monkeypatch.setattr(TokenRateThrottle, "rate", "1000000/hour", raising=False)
    token = api_token(UserFactory(is_superuser=True, is_staff=True), write=True)
    ARTIFACTS.mkdir(exist_ok=True)
    report_dir = ARTIFACTS / "schemathesis"
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{live_server.url}/api/schema/",
        "--header",
        f"Authorization: Token {token}",
        "--checks",
        "not_a_server_error,response_schema_conformance,status_code_conformance,"
        "content_type_conformance",
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        MAX_EXAMPLES,
        "--workers",
        "1",
        "--seed",
        "20261124",
        # a draft of a few hundred new positions applies in several seconds on a loaded
        # two-core machine (about 30 ms a position): slow, but not a failure
        "--request-timeout",
        "60",
        "--report",
        "har,junit",
        "--report-dir",
        str(report_dir),
        "--no-color",
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=1800, cwd=tmp_path)
    (ARTIFACTS / "schemathesis.txt").write_text(run.stdout + run.stderr)
    requests = sum(
        len(json.loads(har.read_text())["log"]["entries"]) for har in report_dir.glob("har-*.json")
    )
    print(f"schemathesis: {requests} requests; exit {run.returncode}")
    print(run.stdout[-4000:])
    assert run.returncode == 0, run.stdout[-8000:] + run.stderr[-2000:]
    assert requests >= MIN_REQUESTS, run.stdout[-3000:]


def test_every_api_url_is_under_the_one_router():
    """No API endpoint is wired outside orgdesign.api.router (except schema and docs)."""
    from orgdesign.api import router

    under_api = [p for p in get_resolver().url_patterns if str(p.pattern).startswith("api/")]
    named = {getattr(p, "name", None) for p in under_api} - {None}
    includes = [p for p in under_api if not getattr(p, "name", None)]
    assert named == {"schema", "api-docs"}
    assert len(includes) == 1 and includes[0].urlconf_name == router.urls
