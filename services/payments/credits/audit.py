"""Proof that the cached totals and the ledger agree (`manage.py check_ledger`)."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Sum

from credits.models import CreditAccount, EntryKind, Hold, HoldStatus, LedgerEntry


def ledger_check() -> list[str]:
    """Every disagreement between accounts, entries and holds, one sentence each; empty when sound.

    For each account: the cached balance and held credits equal the sums of its entries,
    the held credits equal its open holds, and each entry's `*_after` follows from the one
    before. No hold ever took more than was available when it was placed, and each hold's
    entries reserve, capture and release exactly its amount.
    """
    problems: list[str] = []
    users = dict(CreditAccount.objects.values_list("pk", "user_id"))
    sums = {
        row["account_id"]: (row["balance"], row["held"])
        for row in LedgerEntry.objects.order_by()
        .values("account_id")
        .annotate(balance=Sum("amount"), held=Sum("held_change"))
    }
    open_holds = dict(
        Hold.objects.filter(status=HoldStatus.OPEN)
        .order_by()
        .values("account_id")
        .annotate(total=Sum("amount"))
        .values_list("account_id", "total")
    )
    for account in CreditAccount.objects.order_by("pk").iterator():
        balance, held = sums.get(account.pk, (0, 0))
        who = f"account {account.user_id}"
        if account.balance != balance:
            problems.append(f"{who}: balance is {account.balance} but its entries sum to {balance}")
        if account.held != held:
            problems.append(f"{who}: held is {account.held} but its entries sum to {held}")
        if account.held != open_holds.get(account.pk, 0):
            problems.append(
                f"{who}: held is {account.held} but its open holds total {open_holds.get(account.pk, 0)}"
            )

    problems.extend(_check_running_totals(users))
    problems.extend(_check_holds())
    return problems


def _check_running_totals(users: dict) -> list[str]:
    problems = []
    previous: dict[int, tuple[int, int]] = {}
    entries = LedgerEntry.objects.order_by("account_id", "id").values_list(
        "id", "account_id", "kind", "amount", "held_change", "balance_after", "held_after"
    )
    for entry_id, account_id, kind, amount, held_change, balance_after, held_after in entries.iterator():
        balance_before, held_before = previous.get(account_id, (0, 0))
        who = f"account {users.get(account_id)} entry {entry_id} ({kind})"
        if (balance_before + amount, held_before + held_change) != (balance_after, held_after):
            problems.append(
                f"{who}: records balance {balance_after} and held {held_after}, but the entries before "
                f"it give {balance_before + amount} and {held_before + held_change}"
            )
        if kind == EntryKind.HOLD and held_after > balance_after:
            problems.append(f"{who}: the hold took more than was available ({held_after} > {balance_after})")
        # Go on from what the entry says, so one bad entry is reported once, not on every later one.
        previous[account_id] = (balance_after, held_after)
    return problems


def _check_holds() -> list[str]:
    problems = []
    moved: dict = defaultdict(lambda: defaultdict(int))
    rows = (
        LedgerEntry.objects.filter(hold__isnull=False)
        .order_by()
        .values("hold_id", "kind")
        .annotate(held=Sum("held_change"), amount=Sum("amount"))
    )
    for row in rows:
        moved[row["hold_id"]][row["kind"]] += row["held"]
    for hold in Hold.objects.order_by("created_at").iterator():
        kinds = moved[hold.pk]
        reserved = kinds[EntryKind.HOLD]
        captured = -kinds[EntryKind.CAPTURE]
        released = -kinds[EntryKind.RELEASE]
        who = f"hold {hold.pk} ({hold.status})"
        if reserved != hold.amount:
            problems.append(f"{who}: reserves {hold.amount} but its hold entry reserved {reserved}")
        if hold.status == HoldStatus.OPEN and captured + released:
            problems.append(f"{who}: is open but {captured + released} of it was already settled")
        if hold.status != HoldStatus.OPEN and captured + released != hold.amount:
            problems.append(f"{who}: settled {captured + released} of its {hold.amount}")
        if captured != (hold.captured_amount or 0):
            problems.append(
                f"{who}: says {hold.captured_amount or 0} was captured, its entries say {captured}"
            )
    return problems
