"""Settings of the builder service: the model catalog, generations (agent runs), conversation, events."""

from pathlib import Path

from oasis_common import env
from oasis_common.settings import DEFAULT_PORTS, common_settings, peer_url

BASE_DIR = Path(__file__).resolve().parent.parent

globals().update(
    common_settings(
        service="builder",
        base_dir=BASE_DIR,
        apps=["django_tasks", "django_tasks_db", "catalog", "generations"],
    )
)

SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"] = [  # noqa: F821
    "drf_spectacular.hooks.postprocess_schema_enums",
    "generations.schema.add_event_stream",
]

# Runs are queued in the database and picked up by `manage.py generation_worker`.
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["generations"],
    }
}

OASIS.update(  # noqa: F821
    {
        "PROJECTS_URL": peer_url("projects"),
        "PAYMENTS_URL": peer_url("payments"),
        "REDIS_URL": env.get_str("REDIS_URL"),
        # The model catalog: OpenAI (or any compatible endpoint) when a key is set, the demo model always.
        "OPENAI_BASE_URL": env.get_str("OPENAI_BASE_URL"),
        "OPENAI_API_KEY": env.get_str("OPENAI_API_KEY"),
        "DEMO_MODEL_URL": env.get_str(
            "OASIS_DEMO_MODEL_URL", f"http://127.0.0.1:{DEFAULT_PORTS['demo-model']}/v1"
        ),
        "MODELS_JSON": env.get_str("OASIS_MODELS"),
        "MODELS_FILE": env.get_str("OASIS_MODELS_FILE"),
        # Limits on accepting work.
        "PROMPT_MAX_CHARS": env.get_int("OASIS_PROMPT_MAX_CHARS", 8000),
        "MAX_RUNNING_PER_USER": env.get_int("OASIS_MAX_RUNNING_GENERATIONS_PER_USER", 3),
        # Bounds of one run.
        "MAX_TURNS": env.get_int("OASIS_GENERATION_MAX_TURNS", 12),
        "MAX_TOOL_CALLS": env.get_int("OASIS_GENERATION_MAX_TOOL_CALLS", 60),
        "MAX_OUTPUT_TOKENS": env.get_int("OASIS_GENERATION_MAX_OUTPUT_TOKENS", 16000),
        "MAX_WALL_SECONDS": env.get_int("OASIS_GENERATION_MAX_SECONDS", 600),
        "CONTEXT_BUDGET_TOKENS": env.get_int("OASIS_CONTEXT_BUDGET_TOKENS", 24000),
        "HISTORY_BUDGET_TOKENS": env.get_int("OASIS_HISTORY_BUDGET_TOKENS", 4000),
        # Talking to the model.
        "MODEL_TIMEOUT_SECONDS": env.get_float("OASIS_MODEL_TIMEOUT_SECONDS", 60.0),
        "MODEL_MAX_RETRIES": env.get_int("OASIS_MODEL_MAX_RETRIES", 3),
        "STREAM_RETRIES": env.get_int("OASIS_MODEL_STREAM_RETRIES", 2),
        # Crash safety: a running run beats its heart; the sweeper ends silent ones.
        "HEARTBEAT_SECONDS": env.get_float("OASIS_GENERATION_HEARTBEAT_SECONDS", 5.0),
        "STALE_AFTER_SECONDS": env.get_int("OASIS_GENERATION_STALE_AFTER_SECONDS", 60),
        # Live events.
        "DELTA_FLUSH_SECONDS": env.get_float("OASIS_EVENTS_FLUSH_SECONDS", 0.1),
        "SSE_HEARTBEAT_SECONDS": env.get_float("OASIS_SSE_HEARTBEAT_SECONDS", 15.0),
        "SSE_POLL_SECONDS": env.get_float("OASIS_SSE_POLL_SECONDS", 0.25),
    }
)
