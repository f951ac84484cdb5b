"""The builder service's own keys of `settings.OASIS`: one table, read by config/settings.py."""

from oasis_common.conf import DEFAULT_PORTS, Setting, peer

BUILDER = (
    peer("projects"),
    peer("payments"),
    Setting("REDIS_URL", "REDIS_URL", "", help="live events over Redis pub/sub when set"),
    # The model catalog: OpenAI (or any compatible endpoint) when a key is set, the demo model always.
    Setting("OPENAI_BASE_URL", "OPENAI_BASE_URL", "", help="any OpenAI-compatible endpoint"),
    Setting("OPENAI_API_KEY", "OPENAI_API_KEY", ""),
    Setting("DEMO_MODEL_URL", "OASIS_DEMO_MODEL_URL", f"http://127.0.0.1:{DEFAULT_PORTS['demo-model']}/v1"),
    Setting("MODELS_JSON", "OASIS_MODELS", "", help="JSON list replacing the catalog"),
    Setting("MODELS_FILE", "OASIS_MODELS_FILE", "", help="the same JSON in a file"),
    # Limits on accepting work.
    Setting("PROMPT_MAX_CHARS", "OASIS_PROMPT_MAX_CHARS", 8000, int),
    Setting("MAX_RUNNING_PER_USER", "OASIS_MAX_RUNNING_GENERATIONS_PER_USER", 3, int),
    Setting(
        "MAX_QUEUED",
        "OASIS_MAX_QUEUED_GENERATIONS",
        500,
        int,
        help="runs waiting for a worker beyond which new ones are refused (429, Retry-After); 0: no limit",
    ),
    Setting(
        "MAX_STARTING",
        "OASIS_MAX_STARTING_GENERATIONS",
        16,
        int,
        help="runs one web process starts at once; more wait 2 s for a turn, then are refused; 0: no limit",
    ),
    # Bounds of one run.
    Setting("MAX_TURNS", "OASIS_GENERATION_MAX_TURNS", 12, int),
    Setting("MAX_TOOL_CALLS", "OASIS_GENERATION_MAX_TOOL_CALLS", 60, int),
    Setting("MAX_OUTPUT_TOKENS", "OASIS_GENERATION_MAX_OUTPUT_TOKENS", 16000, int),
    Setting("MAX_WALL_SECONDS", "OASIS_GENERATION_MAX_SECONDS", 600, int),
    Setting("CONTEXT_BUDGET_TOKENS", "OASIS_CONTEXT_BUDGET_TOKENS", 24000, int),
    Setting("HISTORY_BUDGET_TOKENS", "OASIS_HISTORY_BUDGET_TOKENS", 4000, int),
    # Talking to the model.
    Setting("MODEL_TIMEOUT_SECONDS", "OASIS_MODEL_TIMEOUT_SECONDS", 60.0, float),
    Setting("MODEL_MAX_RETRIES", "OASIS_MODEL_MAX_RETRIES", 3, int),
    Setting("STREAM_RETRIES", "OASIS_MODEL_STREAM_RETRIES", 2, int),
    # Crash safety: a running run beats its heart; the sweeper ends silent ones.
    Setting("HEARTBEAT_SECONDS", "OASIS_GENERATION_HEARTBEAT_SECONDS", 5.0, float),
    Setting("STALE_AFTER_SECONDS", "OASIS_GENERATION_STALE_AFTER_SECONDS", 20, int),
    # How long a run keeps asking an unavailable projects for its files (as it starts) and to save
    # them (a finished build).
    Setting("LAND_RETRY_SECONDS", "OASIS_GENERATION_LAND_RETRY_SECONDS", 60.0, float),
    # How long a reviewed run's proposal may still be accepted.
    Setting("PROPOSAL_TTL_SECONDS", "OASIS_PROPOSAL_TTL_SECONDS", 7 * 24 * 3600, int),
    # How long a run that ended keeps asking an unavailable payments to settle its hold.
    Setting("SETTLE_RETRY_SECONDS", "OASIS_GENERATION_SETTLE_RETRY_SECONDS", 30.0, float),
    # Live events.
    Setting("DELTA_FLUSH_SECONDS", "OASIS_EVENTS_FLUSH_SECONDS", 0.1, float),
    # A running run publishes each event at once and stores them together this often (with Redis).
    Setting("EVENT_STORE_SECONDS", "OASIS_EVENTS_STORE_SECONDS", 0.5, float),
    Setting("SSE_HEARTBEAT_SECONDS", "OASIS_SSE_HEARTBEAT_SECONDS", 15.0, float),
    Setting("SSE_POLL_SECONDS", "OASIS_SSE_POLL_SECONDS", 0.25, float),
)
