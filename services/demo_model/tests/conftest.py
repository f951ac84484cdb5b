"""Fixtures: the real server on a free port in a background thread, and OpenAI SDK clients pointed at it."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from contextlib import contextmanager

import openai
import pytest
import uvicorn

from oasis_demo_model.app import create_app
from oasis_demo_model.settings import Settings


class RunningServer:
    def __init__(self, port: int, server: uvicorn.Server):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.server = server

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def client(self, **options) -> openai.OpenAI:
        options.setdefault("max_retries", 0)
        options.setdefault("timeout", 10)
        return openai.OpenAI(api_key="not-needed", base_url=self.base_url, **options)

    def async_client(self, **options) -> openai.AsyncOpenAI:
        options.setdefault("max_retries", 0)
        options.setdefault("timeout", 30)
        return openai.AsyncOpenAI(api_key="not-needed", base_url=self.base_url, **options)

    def request(self, method: str, path: str, body=None) -> tuple[int, dict, dict]:
        """A plain HTTP call, for the endpoints the SDK does not cover: status, headers, JSON body."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            payload = json.dumps(body) if body is not None else None
            connection.request(method, path, payload, {"Content-Type": "application/json"})
            response = connection.getresponse()
            headers = {name.lower(): value for name, value in response.getheaders()}
            return response.status, headers, json.loads(response.read() or b"null")
        finally:
            connection.close()


@contextmanager
def running(settings: Settings):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        create_app(settings), log_level="warning", access_log=False, timeout_graceful_shutdown=2, backlog=1024
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the demo model server did not start")
        time.sleep(0.01)
    try:
        yield RunningServer(sock.getsockname()[1], server)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="session")
def demo():
    """The demo model as `make dev` runs it, with short fault timings so failure tests stay fast."""
    with running(Settings(port=0, retry_after_ms=50, hang_seconds=5, access_log=False)) as server:
        yield server


@pytest.fixture(autouse=True)
def no_leftover_faults(request):
    """Every test starts and ends with an empty fault queue, so one test's faults never leak into another."""
    if "demo" not in request.fixturenames:
        yield
        return
    server = request.getfixturevalue("demo")
    server.request("DELETE", "/_control/faults")
    yield
    server.request("DELETE", "/_control/faults")


@pytest.fixture
def client(demo) -> openai.OpenAI:
    return demo.client()
