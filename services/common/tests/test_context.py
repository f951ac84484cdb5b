"""oasis_common.context: the current request's id."""

import re

import pytest

from oasis_common.context import (
    accept_request_id,
    get_request_id,
    new_request_id,
    reset_request_id,
    set_request_id,
)


@pytest.mark.parametrize(
    "candidate",
    [
        "0123456789abcdef0123456789abcdef",
        "req-2024-01-01T12:00:00.123",
        "a1b2c3d4",
        "A" * 128,
    ],
)
def test_a_well_formed_request_id_is_kept(candidate):
    assert accept_request_id(candidate) == candidate


@pytest.mark.parametrize(
    "candidate",
    [None, "", "short", "A" * 129, "has spaces in it", "<script>alert(1)</script>", "line\nbreak-injected"],
)
def test_a_missing_or_malformed_request_id_is_replaced(candidate):
    replaced = accept_request_id(candidate)
    assert replaced != candidate
    assert re.fullmatch(r"[0-9a-f]{32}", replaced)


def test_new_request_ids_differ():
    assert new_request_id() != new_request_id()


def test_the_request_id_is_set_for_a_scope_and_then_restored():
    assert get_request_id() == ""
    token = set_request_id("outer-request-id")
    try:
        assert get_request_id() == "outer-request-id"
    finally:
        reset_request_id(token)
    assert get_request_id() == ""
