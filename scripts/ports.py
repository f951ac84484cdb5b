"""Where each process of `make dev` listens: the one port table, what moves it, who holds a port."""

from __future__ import annotations

import json
import socket
import sys
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from functools import cache

from platform_tools import SERVICES_DIR

from oasis_common.settings import DEFAULT_PORTS

# The variable that moves every port at once: each keeps its distance from it.
PORT_BASE_VARIABLE = "OASIS_DEV_PORT_BASE"
DEFAULT_PORT_BASE = 8000


class PortError(ValueError):
    """A port setting `make dev` cannot use; the message names the variable and what to do."""


def port_variable(name: str) -> str:
    """The variable that moves one process: OASIS_AUTH_PORT, …; the demo model's own OASIS_DEMO_PORT."""
    return "OASIS_DEMO_PORT" if name == "demo-model" else f"OASIS_{name.upper().replace('-', '_')}_PORT"


def _whole_number(environ: Mapping[str, str], variable: str, default: int) -> int:
    raw = (environ.get(variable) or "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise PortError(f"{variable} must be a port number, not {raw!r}.") from None


def dev_ports(environ: Mapping[str, str], names: Iterable[str] | None = None) -> dict[str, int]:
    """Where each process listens: the table, shifted by OASIS_DEV_PORT_BASE, then OASIS_<NAME>_PORT."""
    names = list(DEFAULT_PORTS if names is None else names)
    shift = _whole_number(environ, PORT_BASE_VARIABLE, DEFAULT_PORT_BASE) - DEFAULT_PORT_BASE
    ports = {}
    for name in names:
        variable = port_variable(name)
        shifted = DEFAULT_PORTS[name] + shift
        port = _whole_number(environ, variable, shifted)
        if not 0 < port < 65536:
            source = variable if (environ.get(variable) or "").strip() else PORT_BASE_VARIABLE
            raise PortError(f"{source} puts {describe(name)} on port {port}, outside 1-65535.")
        ports[name] = port
    holders: dict[int, str] = {}
    for name, port in ports.items():
        if port in holders:
            chosen = [v for v in map(port_variable, (holders[port], name)) if (environ.get(v) or "").strip()]
            raise PortError(
                f"{describe(holders[port])} and {describe(name)} would both listen on port {port}; "
                f"change {' or '.join(chosen) or PORT_BASE_VARIABLE}."
            )
        holders[port] = name
    return ports


def describe(name: str) -> str:
    return {"gateway": "the gateway", "demo-model": "the demo model"}.get(name, name)


def port_taken(port: int) -> str | None:
    """Why a server of ours could not listen on the port (in use, not permitted), or None if it can."""
    # Something answering on either loopback address would also take `localhost` away from us.
    for host in ("127.0.0.1", "::1"):
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return "in use"
        except OSError:
            continue
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As gunicorn and nginx do: a port whose last connections are closing is free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("0.0.0.0", port))  # noqa: S104 - the gateway listens on every interface
        except PermissionError:
            return "not permitted (ports below 1024 need root)"
        except OSError:
            return "in use"
    return None


def ports_taken(ports: Mapping[str, int]) -> dict[str, str]:
    """The processes whose port is taken, with why."""
    return {name: why for name, port in ports.items() if (why := port_taken(port))}


def free_port_base(names: Iterable[str], environ: Mapping[str, str]) -> int | None:
    """An OASIS_DEV_PORT_BASE under which every port is free, if one is near."""
    for base in range(9000, 20001, 1000):
        try:
            ports = dev_ports({**environ, PORT_BASE_VARIABLE: str(base)}, names)
        except PortError:
            continue
        if not ports_taken(ports):
            return base
    return None


def taken_message(taken: Mapping[str, str], ports: Mapping[str, int], environ: Mapping[str, str]) -> str:
    """One message: which ports are taken, by whom if it is us, and what to set instead."""
    lines = ["make dev cannot start:"]
    ours = []
    for name in sorted(taken, key=ports.__getitem__):
        port, why = ports[name], taken[name]
        line = f"  port {port}, where {describe(name)} listens, is {why}"
        if why != "in use":
            line += "."
        elif answers_as(name, port):
            ours.append(name)
            line += f" by an Imagi Oasis {describe(name).removeprefix('the ')} (another `make dev`?)."
        else:
            line += f" by another program (`ss -ltnp 'sport = :{port}'` or `lsof -i :{port}` names it)."
        lines.append(line)
    settings = []
    if len(taken) == 1:
        [name] = taken
        steps = range(ports[name] + 100, 65536, 100)
        free = next((p for p in steps if p not in ports.values() and not port_taken(p)), None)
        if free is not None:
            settings.append((f"{port_variable(name)}={free}", f"moves {describe(name)} alone"))
    base = free_port_base(ports, environ)
    if base is not None:
        moved = dev_ports({**environ, PORT_BASE_VARIABLE: str(base)}, ports)
        order = sorted(moved, key=moved.__getitem__)
        listing = ", ".join(f"{describe(name)} {moved[name]}" for name in order)
        settings.append((f"{PORT_BASE_VARIABLE}={base}", f"moves every port: {listing}"))
    if len(ours) == len(taken):
        first = "Stop the other `make dev` (Ctrl-C where it runs)"
    else:
        first = "Free that port" if len(taken) == 1 else "Free those ports"
    lines.append(f"{first}, or move this `make dev` elsewhere in var/dev.env (or the environment):")
    width = max((len(setting) for setting, _ in settings), default=0)
    lines += [f"  {setting.ljust(width)}   {meaning}" for setting, meaning in settings]
    if not settings:
        lines.append(f"  {PORT_BASE_VARIABLE} moves every port, OASIS_<NAME>_PORT one (docs/operations.md).")
    return "\n".join(lines)


@cache
def health_identity(name: str) -> tuple[str, str]:
    """The field and value by which a process of ours names itself in its /healthz answer."""
    if name == "demo-model":
        # As the Procfile runs it: from its folder, not installed.
        sys.path.insert(0, str(SERVICES_DIR / "demo_model"))
        from oasis_demo_model import MODEL_ID

        return "model", MODEL_ID
    return "service", name


def get_json(url: str, *, timeout: float = 1.0) -> tuple[int, dict]:
    """Status and JSON body of a GET to a local URL; (0, {}) when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - local URLs only
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()
    except (OSError, ValueError):
        return 0, {}
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = {}
    return status, parsed if isinstance(parsed, dict) else {}


def answers_as(name: str, port: int) -> bool:
    """Whether our process `name` answers on the port: its /healthz names it; any other server is not ours."""
    field, value = health_identity(name)
    status, body = get_json(f"http://127.0.0.1:{port}/healthz")
    return status == 200 and body.get(field) == value
