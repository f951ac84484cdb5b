"""The errors the credit domain raises, each with a stable code."""

from rest_framework import status

from oasis_common.errors import Conflict, NotFound, ServiceError, Unprocessable


class InsufficientCredits(ServiceError):
    status_code = status.HTTP_402_PAYMENT_REQUIRED
    code = "insufficient_credits"
    message = "There are not enough credits available for this."


class HoldNotFound(NotFound):
    message = "No such hold."


class HoldNotOpen(Conflict):
    code = "hold_not_open"
    message = "The hold was already settled."


class HoldExpired(Conflict):
    code = "hold_expired"
    message = "The hold has expired; its credits are being released."


class CaptureExceedsHold(Unprocessable):
    code = "capture_exceeds_hold"
    message = "A capture cannot take more than the hold reserved."
