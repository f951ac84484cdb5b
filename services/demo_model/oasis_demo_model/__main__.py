"""`python -m oasis_demo_model`: serve the demo model with uvicorn, configured from the environment."""

from __future__ import annotations

import logging
import sys

import uvicorn

from oasis_demo_model import DISPLAY_NAME
from oasis_demo_model.app import create_app
from oasis_demo_model.settings import Settings, SettingsError


def main() -> int:
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"oasis-demo: {error}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level.upper() if settings.log_level != "trace" else "DEBUG",
        format="%(levelname)s:     %(name)s: %(message)s",
    )
    faults = (
        f"{settings.fail_rate:.0%} of requests fail with {'/'.join(settings.fail_kinds)}"
        if settings.fail_rate
        else "none"
    )
    logging.getLogger("oasis_demo_model").info(
        "%s on http://%s:%s/v1 (latency %s ms, %s tokens/s, random faults: %s, control API %s).",
        DISPLAY_NAME,
        settings.host,
        settings.port,
        settings.latency_ms,
        settings.tokens_per_second or "unlimited",
        faults,
        "on" if settings.control else "off",
    )
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=settings.access_log,
        # Hundreds of streams may connect at once during a benchmark.
        backlog=4096,
        timeout_graceful_shutdown=5,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
