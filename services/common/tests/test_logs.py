"""oasis_common.logs: one JSON object per line, each with the service and the request id."""

import io
import json
import logging
from datetime import datetime

import pytest

from oasis_common.context import reset_request_id, set_request_id
from oasis_common.logs import JsonFormatter, RequestIdFilter


@pytest.fixture
def log_lines():
    """A logger wired like a service's console handler; yields (logger, read_lines)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter(service="projects"))
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("oasis.tests.logs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False

    def read():
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield logger, read
    logger.removeHandler(handler)


def test_a_line_is_json_with_the_service_and_the_request_id(log_lines):
    logger, read = log_lines
    token = set_request_id("gateway-0123456789")
    try:
        logger.info("hold %s created", 42)
    finally:
        reset_request_id(token)
    (line,) = read()
    assert line["message"] == "hold 42 created"
    assert line["level"] == "INFO"
    assert line["logger"] == "oasis.tests.logs"
    assert line["service"] == "projects"
    assert line["request_id"] == "gateway-0123456789"
    assert datetime.fromisoformat(line["time"]).utcoffset().total_seconds() == 0


def test_outside_a_request_the_request_id_is_empty(log_lines):
    logger, read = log_lines
    logger.warning("worker started")
    assert read()[0]["request_id"] == ""


def test_extra_fields_become_keys_and_an_explicit_request_id_wins(log_lines):
    logger, read = log_lines
    token = set_request_id("ambient-request-id")
    try:
        logger.info("generation finished", extra={"generation_id": "g-1", "request_id": "job-request-id"})
    finally:
        reset_request_id(token)
    line = read()[0]
    assert line["generation_id"] == "g-1"
    assert line["request_id"] == "job-request-id"


def test_a_multi_line_message_and_its_traceback_stay_on_one_line(log_lines):
    logger, read = log_lines
    try:
        raise ValueError("first line\nsecond line")
    except ValueError:
        logger.exception("it broke\nbadly")
    (line,) = read()
    assert line["message"] == "it broke\nbadly"
    assert "ValueError: first line" in line["exc_info"]


def test_the_configured_console_handler_writes_these_lines():
    handlers = [h for h in logging.getLogger().handlers if isinstance(h.formatter, JsonFormatter)]
    assert handlers, "settings.LOGGING installs a JSON console handler on the root logger"
    handler = handlers[0]
    record = logging.LogRecord("oasis.tests", logging.INFO, __file__, 1, "configured", None, None)
    assert handler.filter(record)
    line = json.loads(handler.format(record))
    assert (line["message"], line["service"]) == ("configured", "projects")
