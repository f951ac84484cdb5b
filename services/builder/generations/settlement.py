"""Settling a finished run with payments: capture what it cost (the rest is released) or release all.

Settlement happens once per run (idempotent by generation id at payments too). If
payments cannot be reached, the run stays unsettled and the sweeper tries again; an
unsettled hold also expires at payments on its own.
"""

from __future__ import annotations

import logging

from generations import peers
from generations.connections import once_more_if_dropped
from generations.models import Generation
from oasis_common.errors import PeerUnavailable

logger = logging.getLogger("oasis.settlement")


def generation_settle(*, generation: Generation, retry_seconds: float = 0) -> bool:
    """Capture `generation.cost` credits of its hold, or release the hold when the cost is 0.

    While payments is unavailable it is asked again for up to `retry_seconds` (the run that just
    ended waits, so the user's credits are right within seconds); after that the sweeper retries.
    """
    if generation.settled:
        return True
    try:
        peers.while_unavailable(lambda: _settle(generation), seconds=retry_seconds)
    except PeerUnavailable:
        logger.warning("Could not settle generation %s yet; the sweeper will retry", generation.id)
        return False
    once_more_if_dropped(Generation.objects.filter(pk=generation.pk).update, settled=True)
    generation.settled = True
    return True


def _settle(generation: Generation) -> None:
    if generation.hold_id and generation.cost > 0:
        captured = peers.hold_capture(
            hold_id=generation.hold_id, amount=generation.cost, generation_id=generation.id
        )
        if not captured:
            # The hold ended first (it expired): the user was not charged, and the record says so.
            logger.warning("The hold of %s had ended; %s credits not charged", generation.id, generation.cost)
            once_more_if_dropped(Generation.objects.filter(pk=generation.pk).update, cost=0)
            generation.cost = 0
    elif generation.hold_id:
        peers.hold_release(hold_id=generation.hold_id, generation_id=generation.id)
