"""oasis_common.service_settings: the shared settings, as names, of the service whose project is `config`."""

import importlib
import sys
import types

import pytest

from oasis_common.settings import common_settings


@pytest.fixture
def service_settings(monkeypatch, tmp_path):
    """The module as a service named `projects` with one app of its own, `widgets`, imports it."""
    monkeypatch.setenv("OASIS_VAR_DIR", str(tmp_path / "var"))
    package = types.ModuleType("config")
    package.__file__ = str(tmp_path / "services" / "projects" / "config" / "__init__.py")
    package.SERVICE = "projects"
    package.APPS = ["widgets"]
    monkeypatch.setitem(sys.modules, "config", package)
    monkeypatch.delitem(sys.modules, "oasis_common.service_settings", raising=False)
    yield importlib.import_module("oasis_common.service_settings")
    sys.modules.pop("oasis_common.service_settings", None)


def test_every_shared_setting_is_a_name_of_the_module(service_settings, tmp_path):
    shared = common_settings(
        service="projects", base_dir=tmp_path / "services" / "projects", apps=["widgets"]
    )

    assert sorted(service_settings.__all__) == sorted(shared)
    for name in service_settings.__all__:
        assert getattr(service_settings, name) == shared[name], name


def test_the_service_is_named_by_its_config_package(service_settings, tmp_path):
    assert service_settings.OASIS["SERVICE_NAME"] == "projects"
    assert service_settings.INSTALLED_APPS[-1] == "widgets"
    assert str(service_settings.BASE_DIR) == str(tmp_path / "services" / "projects")
