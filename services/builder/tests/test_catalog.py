"""The model catalog: configured entries, the public list, prices and the credit arithmetic."""

import json

import pytest

from catalog import registry
from catalog.models import LanguageModel


def test_without_an_openai_key_the_demo_model_is_the_default(db, settings):
    settings.OASIS = {**settings.OASIS, "OPENAI_API_KEY": "", "MODELS_JSON": ""}

    registry.catalog_sync()

    assert list(LanguageModel.objects.values_list("slug", "is_default")) == [("oasis-demo", True)]


def test_with_an_openai_key_openai_models_are_listed_and_one_is_the_default(db, settings):
    settings.OASIS = {**settings.OASIS, "OPENAI_API_KEY": "sk-test", "MODELS_JSON": ""}

    registry.catalog_sync()

    defaults = LanguageModel.objects.filter(is_default=True).values_list("slug", flat=True)
    assert list(defaults) == ["gpt-4.1-mini"]
    assert LanguageModel.objects.filter(slug="oasis-demo", is_default=False).exists()


def test_configured_models_replace_the_defaults_and_admin_entries_stay(db, settings):
    LanguageModel.objects.create(
        slug="from-admin",
        display_name="Admin",
        upstream_model="x",
        context_window=1,
        max_output_tokens=1,
        input_price=1,
        output_price=1,
    )
    entries = [
        {
            "slug": "local-llama",
            "display_name": "Llama on Ollama",
            "upstream_model": "llama3.1",
            "base_url": "http://127.0.0.1:11434/v1",
            "api_key_env": "",
            "context_window": 131072,
            "max_output_tokens": 4096,
            "input_price": 0,
            "output_price": 0,
            "is_default": True,
        }
    ]
    settings.OASIS = {**settings.OASIS, "MODELS_JSON": json.dumps(entries)}

    registry.catalog_sync()

    assert set(LanguageModel.objects.values_list("slug", flat=True)) == {"local-llama", "from-admin"}
    assert registry.model_get(slug=None).slug == "local-llama"


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        "{}",
        '[{"display_name": "no slug"}]',
        '[{"slug": "a", "is_default": true}, {"slug": "b", "is_default": true}]',
    ],
)
def test_bad_configuration_is_refused_clearly(db, settings, raw):
    from django.core.exceptions import ImproperlyConfigured

    settings.OASIS = {**settings.OASIS, "MODELS_JSON": raw}

    with pytest.raises(ImproperlyConfigured):
        registry.catalog_sync()


def test_the_public_catalog_lists_prices_without_endpoints(demo_catalog, client):
    response = client.get("/api/v1/builder/models/")

    assert response.status_code == 200
    assert response.json() == [
        {
            "id": "oasis-demo",
            "display_name": "Oasis demo (deterministic, not an AI)",
            "context_window": 32768,
            "max_output_tokens": 4096,
            "input_price": 1000,
            "output_price": 4000,
            "default": True,
            "options": ["temperature", "reasoning_effort"],
        }
    ]


def test_disabled_models_are_not_listed_or_usable(demo_catalog, client):
    LanguageModel.objects.update(enabled=False)

    assert client.get("/api/v1/builder/models/").json() == []
    with pytest.raises(registry.UnknownModel):
        registry.model_get(slug="oasis-demo")


@pytest.mark.parametrize(
    ("input_tokens", "output_tokens", "credits"),
    [
        (0, 0, 0),
        (1, 0, 1),  # a millionth of a credit still rounds up to one
        (1_000_000, 0, 1000),
        (1234, 567, 4),  # 1234*1000 + 567*4000 = 3,502,000 millionths -> 3.502 -> 4
        (250_000, 250_000, 1250),
    ],
)
def test_cost_is_usage_times_price_rounded_up(demo_catalog, input_tokens, output_tokens, credits):
    model = LanguageModel.objects.get(slug="oasis-demo")

    assert (
        registry.cost_credits(model=model, input_tokens=input_tokens, output_tokens=output_tokens) == credits
    )


def test_endpoints_resolve_overrides_and_fall_back_to_openai_settings(db, settings, monkeypatch):
    settings.OASIS = {
        **settings.OASIS,
        "OPENAI_API_KEY": "sk-default",
        "OPENAI_BASE_URL": "https://gateway.example/v1",
    }
    monkeypatch.setenv("OTHER_KEY", "sk-other")
    plain = LanguageModel(slug="a", base_url="", api_key_env="")
    custom = LanguageModel(slug="b", base_url="http://local:8000/v1", api_key_env="OTHER_KEY")
    keyless = LanguageModel(slug="c", base_url="http://local:8000/v1", api_key_env="MISSING_KEY")

    assert registry.endpoint_for(plain) == registry.Endpoint("https://gateway.example/v1", "sk-default")
    assert registry.endpoint_for(custom) == registry.Endpoint("http://local:8000/v1", "sk-other")
    assert registry.endpoint_for(keyless).api_key == registry.NO_KEY


def test_a_models_own_key_may_come_from_a_file(monkeypatch, tmp_path):
    secret = tmp_path / "other-key"
    secret.write_text("sk-from-a-file\n")
    monkeypatch.delenv("OTHER_KEY", raising=False)
    monkeypatch.setenv("OTHER_KEY_FILE", str(secret))
    custom = LanguageModel(slug="b", base_url="http://local:8000/v1", api_key_env="OTHER_KEY")

    assert registry.endpoint_for(custom).api_key == "sk-from-a-file"


def test_the_admin_shows_operators_why_a_model_was_refused(demo_catalog, client, django_user_model):
    model = LanguageModel.objects.get(slug="oasis-demo")
    registry.model_problem_record(model=model, problem="401 invalid_api_key: Incorrect API key provided")
    operator = django_user_model.objects.create_superuser("operator", "ops@example.com", "a long password 1")
    client.force_login(operator)

    response = client.get("/admin/catalog/languagemodel/")

    assert response.status_code == 200
    assert "401 invalid_api_key: Incorrect API key provided" in response.content.decode()
    registry.model_problem_clear(model=model)
    assert LanguageModel.objects.get(slug="oasis-demo").problem == ""
