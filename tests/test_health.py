import pytest


@pytest.mark.django_db
def test_health_reports_database_and_in_process_tasks(client, settings):
    settings.CELERY_BROKER_URL = ""
    response = client.get("/health/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["status"] == "ok"
    assert body["broker"]["status"] == "in-process"


@pytest.mark.django_db
def test_health_degrades_but_answers_when_the_broker_is_down(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/health/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["broker"]["status"] == "down"


@pytest.mark.redis
@pytest.mark.django_db
def test_health_sees_a_live_broker(client):
    response = client.get("/health/")
    assert response.json()["broker"]["status"] == "ok"
