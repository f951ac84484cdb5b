"""Widgets: rows a view writes, so tests can count how often the work was done."""

from django.db import models


class Widget(models.Model):
    owner = models.CharField(max_length=200)
    name = models.CharField(max_length=50)
    quantity = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name
