"""Wait until every process of `make dev` answers, then say where to go. Stays up with the rest."""

from __future__ import annotations

import signal
import time
import urllib.request

from platform_tools import PORTS, django_services

GATEWAY = "http://localhost:8080"


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - fixed local URLs
            return response.status == 200
    except OSError:
        return False


def main() -> None:
    checks = [f"{GATEWAY}/healthz"] + [f"http://127.0.0.1:{PORTS[s]}/readyz" for s in django_services()]
    deadline = time.monotonic() + 120
    while not all(answers(url) for url in checks):
        if time.monotonic() > deadline:
            print("Some processes did not become ready; see the lines above.", flush=True)
            break
        time.sleep(0.5)
    else:
        print(
            "\n"
            "  Imagi Oasis is running.\n\n"
            f"    Home page       {GATEWAY}/\n"
            f"    API reference   {GATEWAY}/docs/\n"
            f"    API             {GATEWAY}/api/v1/  (start with POST /api/v1/auth/register/)\n\n"
            "  Press Ctrl-C to stop everything.\n",
            flush=True,
        )
    # honcho stops every process when one exits, so this one waits for the others.
    signal.pause()


if __name__ == "__main__":
    main()
