"""Per-generation options: only those the model's catalog entry lists, passed to the model as given."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from catalog import registry
from generations.models import Generation
from tests.conftest import client_for
from tests.test_runner import run

BASE = "/api/v1/builder"


def start(api, project_id, **body):
    return api.post(f"{BASE}/projects/{project_id}/generations/", {"prompt": "hello", **body}, format="json")


def test_the_catalog_says_which_options_each_model_takes(db, demo_catalog, api):
    models = api.get(f"{BASE}/models/").json()

    assert next(m for m in models if m["id"] == "oasis-demo")["options"] == [
        "temperature",
        "reasoning_effort",
    ]


def test_a_runs_options_reach_the_model(demo, fakes, user_id):
    projects, _ = fakes
    project_id = projects.add(user_id)
    demo.reset()

    response = start(
        client_for(user_id), project_id, mode="chat", options={"temperature": 0.25, "reasoning_effort": "low"}
    )
    generation = run(response.json()["id"])

    assert response.status_code == 202
    assert response.json()["options"] == {"temperature": 0.25, "reasoning_effort": "low"}
    assert generation.status == "done"
    assert demo.stats()["options"] == [{"temperature": 0.25, "reasoning_effort": "low"}]


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"top_k": 3}, "top_k"),
        ({"temperature": 5}, "temperature"),
        ({"temperature": "warm"}, "temperature"),
        ({"reasoning_effort": "max"}, "reasoning_effort"),
    ],
)
def test_an_unknown_or_malformed_option_is_a_400_and_nothing_runs(
    db, demo_catalog, fakes, api, user_id, options, field
):
    projects, payments = fakes
    response = start(api, projects.add(user_id), options=options)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["details"]["options"]
    assert Generation.objects.count() == 0
    assert payments.holds == {}


def test_an_option_the_model_does_not_take_is_refused_before_anything_is_held(
    db, demo_catalog, fakes, api, user_id
):
    projects, payments = fakes
    registry.catalog_sync(entries=[{**registry.default_entries()[0], "options": ["temperature"]}])

    response = start(api, projects.add(user_id), options={"reasoning_effort": "low"})
    estimate = api.post(
        f"{BASE}/estimate/",
        {"project_id": projects.add(user_id), "prompt": "hi", "options": {"reasoning_effort": "low"}},
        format="json",
    )

    assert response.status_code == estimate.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "option_not_supported"
    assert error["details"]["options"] == {"reasoning_effort": ["oasis-demo does not take reasoning_effort."]}
    assert Generation.objects.count() == 0
    assert payments.holds == {}


def test_a_configured_model_naming_an_option_nobody_takes_stops_the_start(settings):
    settings.OASIS = {**settings.OASIS, "MODELS_JSON": '[{"slug": "x", "options": ["top_k"]}]'}

    with pytest.raises(ImproperlyConfigured, match="top_k"):
        registry.configured_entries()
