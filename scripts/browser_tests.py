"""The browser step of `make test`: Chromium (installed if missing), the studio's build, tests/browser."""

from __future__ import annotations

import subprocess
import sys

from platform_tools import REPO, ensure_chromium
from studio import build_studio

if __name__ == "__main__":
    ensure_chromium()
    try:
        build_studio()
    except subprocess.CalledProcessError as error:
        sys.exit(f"The studio did not build: {error}")
    command = [str(REPO / ".venv" / "bin" / "pytest"), "-q", "tests/browser", *sys.argv[1:]]
    sys.exit(subprocess.run(command, cwd=REPO).returncode)
