"""Django admin for credits: read-only accounts, ledger and holds; adjustments record who and why."""

import re
import uuid

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from credits.accounts import account_open
from credits.holds import hold_create
from credits.models import CreditAccount, EntryKind, Hold, LedgerEntry

PASSWORD = "a long admin passphrase"


@pytest.fixture
def admin(db):
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.com", PASSWORD))
    return client


@pytest.fixture
def account(db):
    account = account_open(user_id=uuid.uuid4())
    hold_create(user_id=account.user_id, amount=100, reason="build", service="builder")
    return account


def adjust_url(account) -> str:
    return f"/admin/credits/creditaccount/{account.pk}/adjust/"


def form_key(response) -> str:
    return re.search(rb'name="idempotency_key" value="([^"]+)"', response.content).group(1).decode()


@pytest.mark.parametrize("model", ["creditaccount", "ledgerentry", "hold"])
def test_the_changelists_open(admin, account, model):
    response = admin.get(f"/admin/credits/{model}/")

    assert response.status_code == 200
    assert str(account.user_id).encode() in response.content


def test_the_changelist_finds_an_account_by_user_id(admin, account):
    account_open(user_id=uuid.uuid4())

    response = admin.get("/admin/credits/creditaccount/", {"q": str(account.user_id)})

    assert b"1 result" in response.content


@pytest.mark.parametrize("model", ["creditaccount", "ledgerentry", "hold"])
def test_nothing_can_be_added_in_the_admin(admin, account, model):
    assert admin.get(f"/admin/credits/{model}/add/").status_code == 403


def test_an_account_is_shown_read_only_with_a_way_to_adjust_it(admin, account):
    response = admin.get(f"/admin/credits/creditaccount/{account.pk}/change/")

    assert response.status_code == 200
    assert b'name="balance"' not in response.content
    assert adjust_url(account).encode() in response.content


def test_a_ledger_entry_cannot_be_changed_or_deleted_in_the_admin(admin, account):
    entry = LedgerEntry.objects.filter(account=account).first()

    changed = admin.post(f"/admin/credits/ledgerentry/{entry.pk}/change/", {"amount": 1})
    deleted = admin.post(f"/admin/credits/ledgerentry/{entry.pk}/delete/", {"post": "yes"})

    assert changed.status_code == 403
    assert deleted.status_code == 403
    assert LedgerEntry.objects.get(pk=entry.pk).amount == entry.amount


def test_accounts_and_holds_cannot_be_deleted_in_the_admin(admin, account):
    hold = Hold.objects.get(account=account)

    assert (
        admin.post(f"/admin/credits/creditaccount/{account.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    assert admin.post(f"/admin/credits/hold/{hold.pk}/delete/", {"post": "yes"}).status_code == 403
    assert CreditAccount.objects.filter(pk=account.pk).exists()


def test_an_adjustment_posts_to_the_ledger_with_who_and_why(admin, account):
    form = admin.get(adjust_url(account))
    assert form.status_code == 200

    response = admin.post(
        adjust_url(account),
        {"amount": "-250", "reason": "Duplicate grant", "idempotency_key": form_key(form)},
    )

    assert response.status_code == 302
    assert response["Location"] == f"/admin/credits/creditaccount/{account.pk}/change/"
    entry = LedgerEntry.objects.get(account=account, kind=EntryKind.ADJUSTMENT)
    assert (entry.amount, entry.reason) == (-250, "Duplicate grant")
    root = User.objects.get(username="root")
    assert entry.actor == f"staff:root (id {root.pk})"
    account.refresh_from_db()
    assert (account.balance, account.held) == (1750, 100)


def test_submitting_the_adjustment_form_twice_posts_once(admin, account):
    key = form_key(admin.get(adjust_url(account)))

    for _ in range(2):
        admin.post(adjust_url(account), {"amount": "500", "reason": "Goodwill", "idempotency_key": key})

    assert LedgerEntry.objects.filter(account=account, kind=EntryKind.ADJUSTMENT).count() == 1
    account.refresh_from_db()
    assert account.balance == 2500


@pytest.mark.parametrize(
    ("amount", "reason"), [("0", "why"), ("", "why"), ("12", ""), ("12", "   "), ("lots", "why")]
)
def test_an_adjustment_needs_an_amount_and_a_reason(admin, account, amount, reason):
    key = form_key(admin.get(adjust_url(account)))

    response = admin.post(adjust_url(account), {"amount": amount, "reason": reason, "idempotency_key": key})

    assert response.status_code == 200
    assert b"errorlist" in response.content
    assert not LedgerEntry.objects.filter(kind=EntryKind.ADJUSTMENT).exists()


def test_the_adjust_action_leads_to_the_form_for_one_account(admin, account):
    response = admin.post(
        "/admin/credits/creditaccount/", {"action": "post_adjustment", "_selected_action": [account.pk]}
    )

    assert response.status_code == 302
    assert response["Location"] == adjust_url(account)


def test_the_adjust_action_wants_exactly_one_account(admin, account):
    other = account_open(user_id=uuid.uuid4())

    response = admin.post(
        "/admin/credits/creditaccount/",
        {"action": "post_adjustment", "_selected_action": [account.pk, other.pk]},
        follow=True,
    )

    assert b"Select exactly one account to adjust." in response.content


def test_staff_without_the_permission_cannot_adjust(db, account):
    staff = User.objects.create_user("clerk", password=PASSWORD, is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_creditaccount"))
    client = Client()
    client.force_login(staff)

    assert client.get(f"/admin/credits/creditaccount/{account.pk}/change/").status_code == 200
    assert client.get(adjust_url(account)).status_code == 403
    assert client.post(adjust_url(account), {"amount": "5", "reason": "x"}).status_code == 403


def test_staff_with_the_permission_can_adjust(db, account):
    staff = User.objects.create_user("finance", password=PASSWORD, is_staff=True)
    staff.user_permissions.add(
        Permission.objects.get(codename="view_creditaccount"),
        Permission.objects.get(codename="post_adjustment"),
    )
    client = Client()
    client.force_login(staff)
    key = form_key(client.get(adjust_url(account)))

    response = client.post(
        adjust_url(account), {"amount": "5", "reason": "Support ticket 12", "idempotency_key": key}
    )

    assert response.status_code == 302
    assert LedgerEntry.objects.get(account=account, kind=EntryKind.ADJUSTMENT).actor.startswith(
        "staff:finance"
    )
