"""Brute-force protection on sign-in: lockout per account and per client address."""

import time
from types import SimpleNamespace

import pytest

from accounts import lockout
from tests.helpers import error_of, sign_in

WRONG = "not the password"


@pytest.fixture
def limits(settings):
    def set_limits(*, account=3, ip=1000, seconds=900):
        settings.OASIS = {
            **settings.OASIS,
            "LOGIN_MAX_FAILURES_PER_ACCOUNT": account,
            "LOGIN_MAX_FAILURES_PER_IP": ip,
            "LOGIN_LOCKOUT_SECONDS": seconds,
        }

    return set_limits


def from_ip(address: str) -> dict:
    # The gateway overwrites X-Forwarded-For; with NUM_PROXIES=1 its last entry is the client.
    return {"HTTP_X_FORWARDED_FOR": address}


def fail(api, times: int, email="ada@example.com", **extra) -> None:
    for _ in range(times):
        error_of(sign_in(api, email, WRONG, **extra), 401, "invalid_credentials")


def test_the_defaults_lock_an_account_after_five_failures(api, user):
    fail(api, 5)

    error_of(sign_in(api), 429, "login_locked")


def test_an_account_is_locked_after_the_configured_failures_even_for_the_right_password(api, user, limits):
    limits(account=3, seconds=600)
    fail(api, 3)

    response = sign_in(api)

    error = error_of(response, 429, "login_locked")
    retry_after = int(response["Retry-After"])
    assert 0 < retry_after <= 601
    assert error["details"] == {"retry_after": retry_after}


def test_failures_below_the_limit_do_not_lock(api, user, limits):
    limits(account=3)
    fail(api, 2)

    assert sign_in(api).status_code == 200


def test_the_account_lock_holds_from_any_address(api, user, limits):
    limits(account=3)
    fail(api, 3, **from_ip("198.51.100.1"))

    error_of(sign_in(api, **from_ip("203.0.113.9")), 429, "login_locked")


def test_the_account_lock_ignores_the_case_of_the_email(api, user, limits):
    limits(account=3)
    fail(api, 3, email="ADA@example.com")

    error_of(sign_in(api, "ada@EXAMPLE.com"), 429, "login_locked")


def test_an_account_lock_leaves_other_accounts_alone(api, user, other_user, limits):
    limits(account=3)
    fail(api, 3)

    assert sign_in(api, "grace@example.com").status_code == 200


def test_unknown_emails_lock_like_real_ones(api, db, limits):
    # Otherwise the lockout itself would reveal which emails have accounts.
    limits(account=3)
    fail(api, 3, email="nobody@example.com")

    error_of(sign_in(api, "nobody@example.com"), 429, "login_locked")


def test_a_successful_sign_in_resets_the_account_counter(api, user, limits):
    limits(account=3)
    fail(api, 2)
    assert sign_in(api).status_code == 200

    fail(api, 2)

    assert sign_in(api).status_code == 200


def test_an_address_is_locked_after_failures_across_different_accounts(api, make_user, limits):
    limits(account=100, ip=3)
    for index in range(3):
        fail(api, 1, email=f"victim{index}@example.com", **from_ip("198.51.100.7"))
    make_user()

    response = sign_in(api, **from_ip("198.51.100.7"))

    error_of(response, 429, "login_locked")
    assert int(response["Retry-After"]) > 0
    assert sign_in(api, **from_ip("203.0.113.8")).status_code == 200


def test_the_address_lock_uses_the_address_the_gateway_appended(api, make_user, limits):
    # A client cannot dodge the lock by sending its own X-Forwarded-For entries.
    limits(account=100, ip=3)
    make_user()
    for index in range(3):
        spoofed = f"10.0.0.{index}, 198.51.100.7"
        fail(api, 1, email=f"victim{index}@example.com", **from_ip(spoofed))

    error_of(sign_in(api, **from_ip("192.0.2.1, 198.51.100.7")), 429, "login_locked")


def test_without_a_proxy_header_the_remote_address_is_locked(api, make_user, limits):
    limits(account=100, ip=3)
    make_user()
    for index in range(3):
        fail(api, 1, email=f"victim{index}@example.com", REMOTE_ADDR="198.51.100.20")

    error_of(sign_in(api, REMOTE_ADDR="198.51.100.20"), 429, "login_locked")
    assert sign_in(api, REMOTE_ADDR="198.51.100.21").status_code == 200


def test_a_successful_sign_in_does_not_reset_the_address_counter(api, make_user, limits):
    limits(account=100, ip=3)
    make_user()
    fail(api, 2, email="victim@example.com", **from_ip("198.51.100.7"))
    assert sign_in(api, **from_ip("198.51.100.7")).status_code == 200

    fail(api, 1, email="victim@example.com", **from_ip("198.51.100.7"))

    error_of(sign_in(api, **from_ip("198.51.100.7")), 429, "login_locked")


def test_attempts_during_a_lock_are_not_checked_against_the_password(api, user, limits, monkeypatch):
    limits(account=3)
    fail(api, 3)
    checked = []
    monkeypatch.setattr("accounts.users.user_authenticate", lambda **kwargs: checked.append(kwargs))

    error_of(sign_in(api), 429, "login_locked")

    assert checked == []


def test_the_lock_ends_after_the_lockout_period(api, user, limits, monkeypatch):
    limits(account=3, seconds=60)
    fail(api, 3)
    later = time.time() + 61
    monkeypatch.setattr(lockout, "time", SimpleNamespace(time=lambda: later))

    assert sign_in(api).status_code == 200


def test_failures_clear_forgets_the_account_but_not_the_address(user, limits):
    limits(account=2, ip=2)
    lockout.failure_record(email="ada@example.com", ip="198.51.100.7")
    lockout.failure_record(email="ada@example.com", ip="198.51.100.7")

    lockout.failures_clear(email="ADA@example.com")

    lockout.lockout_check(email="ada@example.com", ip="203.0.113.1")
    with pytest.raises(lockout.TooManyRequests):
        lockout.lockout_check(email="someone@example.com", ip="198.51.100.7")


def test_with_redis_down_sign_in_works_and_failures_go_uncounted(api, user, limits, redis_down):
    limits(account=2)
    redis_down()

    for _ in range(3):
        error_of(sign_in(api, password=WRONG), 401, "invalid_credentials")

    assert sign_in(api).status_code == 200
