"""Filters of the generations list: `?status=` (repeatable) and `?active=` (running now)."""

from django.db.models import QuerySet

from generations.models import ACTIVE, Generation


def generations_filter(
    queryset: QuerySet[Generation],
    *,
    statuses: set[str] | frozenset[str] = frozenset(),
    active: bool | None = None,
) -> QuerySet[Generation]:
    """Only the generations with one of `statuses` (any when empty); `active` keeps queued and running ones
    (True) or only the finished ones (False)."""
    if statuses:
        queryset = queryset.filter(status__in=sorted(statuses))
    if active is True:
        queryset = queryset.filter(status__in=ACTIVE)
    elif active is False:
        queryset = queryset.exclude(status__in=ACTIVE)
    return queryset
