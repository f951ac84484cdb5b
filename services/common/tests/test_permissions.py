"""oasis_common.permissions: users on the public API, services on the internal one."""

from types import SimpleNamespace

import pytest

from oasis_common.authentication import Principal
from oasis_common.permissions import IsService, IsUser

USER = Principal(id="5b1c6c1e-8f0b-4e43-9d1a-2f7f3c1d9a10", token_type="access")
SERVICE = Principal(id="service:builder", token_type="service")


@pytest.mark.parametrize(
    ("principal", "is_user", "is_service"),
    [(USER, True, False), (SERVICE, False, True), (None, False, False)],
    ids=["user", "service", "anonymous"],
)
def test_each_permission_admits_only_its_kind_of_caller(principal, is_user, is_service):
    request = SimpleNamespace(user=principal)
    assert IsUser().has_permission(request, view=None) is is_user
    assert IsService().has_permission(request, view=None) is is_service
