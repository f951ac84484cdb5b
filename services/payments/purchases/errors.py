"""The errors checkout and the webhook raise, each with a stable code."""

from rest_framework import status

from oasis_common.errors import NotFound, ServiceError, Unprocessable


class PaymentsUnavailable(ServiceError):
    # What is missing is logged for operators; the person buying only needs to know it cannot work.
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    code = "payments_unavailable"
    message = "Buying credits is not available at the moment."


class PaymentProviderUnavailable(ServiceError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    code = "payment_provider_unavailable"
    message = "The payment provider could not be reached. Try again shortly."


class RedirectNotAllowed(Unprocessable):
    code = "redirect_not_allowed"
    message = "Checkout may only return to an allowed origin."


class CheckoutNotFound(NotFound):
    message = "No such checkout session."


class InvalidSignature(ServiceError):
    code = "invalid_signature"
    message = "The Stripe-Signature header is missing, invalid or too old."


class MalformedEvent(ServiceError):
    code = "malformed_event"
    message = "The webhook body is not a Stripe event."
