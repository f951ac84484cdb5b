"""Gunicorn's own log lines are JSON, like every other line a service writes; requests it never logs."""

import json
import logging

import pytest
from gunicorn import glogging
from gunicorn.config import Config

from oasis_common import gunicorn_conf
from oasis_common.logs import JsonFormatter


@pytest.fixture
def gunicorn_logger(capsys):
    """Gunicorn's logger configured from our settings; the logging setup before it comes back after."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    config = Config()
    config.set("logconfig_dict", gunicorn_conf.logconfig_dict)
    yield glogging.Logger(config)
    root.handlers[:], level = saved
    root.setLevel(level)
    for name in ("gunicorn.error", "gunicorn.access"):
        logging.getLogger(name).handlers.clear()


def test_gunicorn_logs_its_own_lines_as_json_named_for_the_service(gunicorn_logger):
    (handler,) = [h for h in gunicorn_logger.error_log.handlers if isinstance(h.formatter, JsonFormatter)]
    record = logging.LogRecord(
        "gunicorn.error", logging.ERROR, __file__, 1, "Worker (pid:%s) was sent SIGKILL!", (4242,), None
    )

    assert handler.filter(record)
    line = json.loads(handler.format(record))

    assert (line["level"], line["logger"]) == ("ERROR", "gunicorn.error")
    assert line["message"] == "Worker (pid:4242) was sent SIGKILL!"
    assert line["service"] == (gunicorn_conf._service_name() or "gunicorn")
    assert "time" in line


def test_gunicorn_never_logs_requests_itself(gunicorn_logger, capsys):
    logging.getLogger("gunicorn.access").info('"GET /events/?ticket=secret HTTP/1.1" 200')

    assert "secret" not in capsys.readouterr().err
    assert gunicorn_conf.logconfig_dict["loggers"]["gunicorn.access"]["handlers"] == []
    assert gunicorn_logger.access_log.propagate is False


def test_lines_are_named_for_the_service_once_gunicorn_has_entered_its_folder(monkeypatch, tmp_path):
    service_filter = gunicorn_conf.ServiceFilter()
    record = logging.LogRecord("gunicorn.error", logging.INFO, __file__, 1, "Booting worker", (), None)
    monkeypatch.setattr(gunicorn_conf, "_service_name", lambda: "")
    service_filter.filter(record)
    assert record.service == "gunicorn"

    monkeypatch.setattr(gunicorn_conf, "_service_name", lambda: "builder")  # after --chdir
    service_filter.filter(record)
    assert record.service == "builder"
