"""The studio's build (web/ → web/dist/), done when missing or stale, for `make dev` and the browser tests."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from platform_tools import REPO

WEB = REPO / "web"
DIST = WEB / "dist"
# What the build reads besides node_modules: a change to any of these makes web/dist stale.
SOURCES = (
    "src",
    "public",
    "index.html",
    "package.json",
    "package-lock.json",
    "vite.config.ts",
    "tsconfig.json",
)


def _newest(paths) -> float:
    newest = 0.0
    for path in paths:
        if path.is_dir():
            newest = max([newest, *(p.stat().st_mtime for p in path.rglob("*") if p.is_file())])
        elif path.exists():
            newest = max(newest, path.stat().st_mtime)
    return newest


def dependencies_stale() -> bool:
    """node_modules is missing, or older than the lockfile (npm ci writes node_modules/.package-lock.json)."""
    installed = WEB / "node_modules" / ".package-lock.json"
    return not installed.exists() or installed.stat().st_mtime < (WEB / "package-lock.json").stat().st_mtime


def build_stale() -> bool:
    built = DIST / "index.html"
    return not built.exists() or built.stat().st_mtime < _newest(WEB / name for name in SOURCES)


def build_studio(force: bool = False) -> Path:
    """web/dist, built (after `npm ci` when the dependencies changed) unless it is already current."""
    npm = shutil.which("npm")
    if not force and not build_stale() and not dependencies_stale():
        return DIST
    if npm is None:
        raise SystemExit("The studio needs Node.js 20+ and npm to build (web/); install them and run again.")
    if dependencies_stale():
        print("Installing the studio's dependencies (npm ci)…", flush=True)
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=WEB, check=True)
    print("Building the studio (npm run build)…", flush=True)
    subprocess.run([npm, "run", "build"], cwd=WEB, check=True)
    return DIST


if __name__ == "__main__":
    build_studio()
