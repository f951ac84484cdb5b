"""Sign-in lockout holds across several gunicorn workers, per account and per IP."""

from tests.e2e.conftest import PASSWORD, Client, fresh_ip, register

ACCOUNT_LIMIT = 5  # the default OASIS_LOGIN_MAX_FAILURES_PER_ACCOUNT
IP_LIMIT = 30  # the default OASIS_LOGIN_MAX_FAILURES_PER_IP


def attempt(client, email, password="wrong password entirely"):
    return client.post("/api/v1/auth/token/", json={"email": email, "password": password})


def test_an_account_is_locked_after_the_configured_failures(system):
    client = Client(system.url, source_ip=fresh_ip())
    user = register(client)

    answers = [attempt(client, user["email"]).status_code for _ in range(ACCOUNT_LIMIT)]
    locked = attempt(client, user["email"], PASSWORD)

    assert answers == [401] * ACCOUNT_LIMIT
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "login_locked"
    assert int(locked.headers["Retry-After"]) > 0
    # The lock is on the account, wherever the next attempt comes from.
    elsewhere = attempt(Client(system.url, source_ip=fresh_ip()), user["email"], PASSWORD)
    assert elsewhere.status_code == 429


def test_an_address_is_locked_after_the_configured_failures_across_accounts(system):
    client = Client(system.url, source_ip=fresh_ip())
    bystander = register(Client(system.url, source_ip=fresh_ip()))

    answers = [attempt(client, f"guess-{n}@example.com").status_code for n in range(IP_LIMIT)]
    locked = attempt(client, bystander["email"], PASSWORD)

    assert answers == [401] * IP_LIMIT
    assert locked.status_code == 429
    assert "Retry-After" in locked.headers
    # The bystander can still sign in from their own address.
    other = attempt(Client(system.url, source_ip=fresh_ip()), bystander["email"], PASSWORD)
    assert other.status_code == 200
