"""Catalog operations: which models exist, what serves them, and what a number of tokens costs.

Entries come from configuration (`OASIS_MODELS` JSON or `OASIS_MODELS_FILE`; otherwise
the built-in defaults) through `catalog_sync`, and from the Django admin. Configuration
is authoritative for the entries it names; entries added in the admin are left alone.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from catalog.models import LanguageModel
from oasis_common import env
from oasis_common.errors import ServiceError

DEMO_SLUG = "oasis-demo"
FIELDS = (
    "display_name",
    "upstream_model",
    "base_url",
    "api_key_env",
    "context_window",
    "max_output_tokens",
    "input_price",
    "output_price",
    "options",
    "is_default",
    "enabled",
    "position",
)
# What a generation may ask of a model beyond its prompt, where the catalog says the model takes it.
OPTIONS = ("temperature", "reasoning_effort")
# Local servers (the demo model, Ollama, vLLM…) take any key; the SDK insists on one.
NO_KEY = "no-key-needed"


def default_entries() -> list[dict]:
    """The demo model always; OpenAI's models when OPENAI_API_KEY is set (then the default)."""
    oasis = settings.OASIS
    with_openai = bool(oasis["OPENAI_API_KEY"])
    entries = [
        {
            "slug": DEMO_SLUG,
            "display_name": "Oasis demo (deterministic, not an AI)",
            "upstream_model": DEMO_SLUG,
            "base_url": oasis["DEMO_MODEL_URL"],
            "api_key_env": "",
            "context_window": 32_768,
            "max_output_tokens": 4_096,
            "input_price": 1_000,
            "output_price": 4_000,
            # It takes both and ignores them, as a stand-in for models that do.
            "options": list(OPTIONS),
            "is_default": not with_openai,
            "enabled": True,
            "position": 90,
        }
    ]
    if with_openai:
        entries += [
            _openai("gpt-4.1-mini", "GPT-4.1 mini", 1_047_576, 32_768, 400, 1_600, default=True, position=10),
            _openai("gpt-4.1", "GPT-4.1", 1_047_576, 32_768, 2_000, 8_000, position=20),
            _openai("gpt-4o-mini", "GPT-4o mini", 128_000, 16_384, 150, 600, position=30),
        ]
    return entries


def _openai(slug, name, context, output, input_price, output_price, *, default=False, position=50) -> dict:
    return {
        "slug": slug,
        "display_name": name,
        "upstream_model": slug,
        "base_url": "",
        "api_key_env": "",
        "context_window": context,
        "max_output_tokens": output,
        "input_price": input_price,
        "output_price": output_price,
        "options": ["temperature"],
        "is_default": default,
        "enabled": True,
        "position": position,
    }


def configured_entries() -> list[dict]:
    oasis = settings.OASIS
    raw = oasis["MODELS_JSON"]
    if not raw and oasis["MODELS_FILE"]:
        raw = Path(oasis["MODELS_FILE"]).read_text()
    if not raw:
        return default_entries()
    try:
        entries = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ImproperlyConfigured(f"OASIS_MODELS is not valid JSON: {exc}") from exc
    if not isinstance(entries, list) or not all(isinstance(e, dict) and e.get("slug") for e in entries):
        raise ImproperlyConfigured("OASIS_MODELS must be a JSON list of objects with a slug")
    if sum(bool(e.get("is_default")) for e in entries) > 1:
        raise ImproperlyConfigured("OASIS_MODELS may mark one model as the default")
    for entry in entries:
        unknown = set(entry.get("options", [])) - set(OPTIONS)
        if unknown:
            raise ImproperlyConfigured(
                f"OASIS_MODELS: {entry['slug']} names options no model takes: {', '.join(sorted(unknown))}"
                f" (known: {', '.join(OPTIONS)})"
            )
    return entries


@transaction.atomic
def catalog_sync(*, entries: list[dict] | None = None) -> list[LanguageModel]:
    """Create or update the configured entries; the default flag moves to the configured one."""
    entries = configured_entries() if entries is None else entries
    if any(entry.get("is_default") for entry in entries):
        LanguageModel.objects.filter(is_default=True).update(is_default=False)
    synced = []
    for entry in entries:
        values = {field: entry[field] for field in FIELDS if field in entry}
        model, _ = LanguageModel.objects.update_or_create(slug=entry["slug"], defaults=values)
        synced.append(model)
    return synced


class UnknownModel(ServiceError):
    code = "unknown_model"
    message = "There is no such model. GET /api/v1/builder/models/ lists them."


def model_list() -> list[LanguageModel]:
    return list(LanguageModel.objects.filter(enabled=True))


def model_get(*, slug: str | None) -> LanguageModel:
    """The named enabled model, or the default one when no name is given."""
    models = LanguageModel.objects.filter(enabled=True)
    model = models.filter(slug=slug).first() if slug else models.filter(is_default=True).first()
    if model is None and not slug:
        model = models.first()
    if model is None:
        raise UnknownModel(details={"model": [f"Unknown model {slug!r}."]} if slug else {})
    return model


@dataclass(frozen=True)
class Endpoint:
    base_url: str | None
    api_key: str


def endpoint_for(model: LanguageModel) -> Endpoint:
    """Which OpenAI-compatible endpoint serves the model, with which key."""
    oasis = settings.OASIS
    base_url = model.base_url or oasis["OPENAI_BASE_URL"] or None
    # A model's own key variable is read as every other: from `NAME` or the file `NAME_FILE` names.
    key = env.get_str(model.api_key_env) if model.api_key_env else oasis["OPENAI_API_KEY"]
    return Endpoint(base_url=base_url, api_key=key or NO_KEY)


def model_problem_record(*, model: LanguageModel, problem: str) -> None:
    """Note for operators (the admin's catalog) that the endpoint refused `model`, and why."""
    model.problem, model.problem_at = problem[:300], timezone.now()
    LanguageModel.objects.filter(pk=model.pk).update(problem=model.problem, problem_at=model.problem_at)


def model_problem_clear(*, model: LanguageModel) -> None:
    """The endpoint served `model` again: its noted problem is over."""
    if model.problem:
        model.problem, model.problem_at = "", None
        LanguageModel.objects.filter(pk=model.pk).update(problem="", problem_at=None)


def tokens_for_text(text: str) -> int:
    """A deliberately pessimistic token estimate (about four characters a token)."""
    return math.ceil(len(text) / 4)


def cost_credits(*, model: LanguageModel, input_tokens: int, output_tokens: int) -> int:
    """Credits for a token count, rounded up to a whole credit (prices are per million tokens)."""
    micro = input_tokens * model.input_price + output_tokens * model.output_price
    return -(-micro // 1_000_000)
