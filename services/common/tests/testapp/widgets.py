"""Domain operations on widgets; tests replace `widget_create` to script failures."""

from django.db import transaction

from tests.testapp.models import Widget


def widget_create(*, owner: str, name: str, quantity: int) -> Widget:
    with transaction.atomic():
        return Widget.objects.create(owner=owner, name=name, quantity=quantity)


def widget_list(*, owner: str):
    return Widget.objects.filter(owner=owner)
