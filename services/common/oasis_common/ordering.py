"""`?ordering=` on lists: each list offers a few orderings and refuses any other with a 400.

A list view names the fields it may be sorted by and its default:

    ordering_fields = ("created_at", "name")
    ordering = "-created_at"

Clients send one of `created_at`, `-created_at`, `name`, `-name`; the schema lists them as
an enum. DRF's own filter drops what it does not know and carries on, so a typo silently
gives the default order; this one says what it accepts instead. A view without
`ordering_fields` is not sorted here, and a view whose `ordering` is None keeps the order
its list already has (a catalog's curated order).
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter

from django.db.models import QuerySet
from rest_framework import filters
from rest_framework.exceptions import ValidationError


def ordering_choices(view) -> list[str]:
    """Every value `?ordering=` may take on `view`: each field, ascending then descending."""
    return [term for field in getattr(view, "ordering_fields", None) or () for term in (field, f"-{field}")]


class OrderingFilter(filters.OrderingFilter):
    def get_ordering(self, request, queryset, view) -> tuple[str, ...] | None:
        choices = ordering_choices(view)
        if not choices:
            return None
        requested = request.query_params.get(self.ordering_param, "").strip()
        if not requested:
            return self.get_default_ordering(view)
        if requested not in choices:
            message = f"Unknown ordering {requested!r}. Choose one of: {', '.join(choices)}."
            raise ValidationError({self.ordering_param: [message]})
        return (requested,)

    def filter_queryset(self, request, queryset, view):
        ordering = self.get_ordering(request, queryset, view)
        if not ordering:
            return queryset
        if isinstance(queryset, QuerySet):
            # Ties fall back to the primary key, in the same direction, so that pages neither
            # repeat nor skip rows that share a value.
            tiebreaker = "-pk" if ordering[0].startswith("-") else "pk"
            return queryset.order_by(*ordering, tiebreaker)
        return _sorted(queryset, ordering)

    def get_schema_operation_parameters(self, view) -> list[dict]:
        choices = ordering_choices(view)
        if not choices:
            return []
        default = self.get_default_ordering(view)
        schema = {"type": "string", "enum": choices}
        description = "Sort by one field; a leading `-` sorts it descending."
        if default:
            schema["default"] = default[0]
        else:
            description += " Without it, the list keeps its own order."
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": description,
                "schema": schema,
            }
        ]


def _sorted(items: Sequence, ordering: tuple[str, ...]) -> list:
    """A list of objects sorted like `order_by` would; Python's sort is stable, so ties keep their order."""
    result = list(items)
    for term in reversed(ordering):
        result.sort(key=attrgetter(term.lstrip("-")), reverse=term.startswith("-"))
    return result
