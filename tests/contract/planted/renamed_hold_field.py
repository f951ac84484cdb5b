"""payments with one deliberate incompatible change, for tests/contract: holds answer `id`, not `hold_id`.

Started only by the contract tests, next to the real payments, to prove that provider
verification catches a renamed response field; nothing else imports it.
"""

from config.wsgi import application
from credits.serializers import HoldSerializer

__all__ = ["application"]

_represent = HoldSerializer.to_representation


def _renamed(self, instance) -> dict:
    data = _represent(self, instance)
    data["id"] = data.pop("hold_id")
    return data


HoldSerializer.to_representation = _renamed
