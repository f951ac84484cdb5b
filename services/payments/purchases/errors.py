"""The errors checkout and the webhook raise, each with a stable code."""

from rest_framework import status

from oasis_common.errors import NotFound, ServiceError, Unprocessable


class PaymentsUnavailable(ServiceError):
    # What is missing is logged for operators; the person buying only needs to know it cannot work.
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    code = "payments_unavailable"
    message = "Buying credits is not available at the moment."


# Long enough for a rate limit or a provider's blip to pass; short enough to feel like "shortly".
PROVIDER_RETRY_AFTER_SECONDS = 5


class PaymentProviderUnavailable(ServiceError):
    # Temporary: the provider was unreachable, limited our rate or failed on its side.
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    code = "payment_provider_unavailable"
    message = "The payment provider could not be reached. Try again shortly."

    def __init__(self) -> None:
        super().__init__(
            details={"retry_after": PROVIDER_RETRY_AFTER_SECONDS},
            headers={"Retry-After": str(PROVIDER_RETRY_AFTER_SECONDS)},
        )


class PaymentProviderError(ServiceError):
    # Permanent: the provider refused what we sent or who we are (our configuration, not the
    # buyer). Repeating the request cannot help, so nothing here invites a retry.
    status_code = status.HTTP_502_BAD_GATEWAY
    code = "payment_provider_error"
    message = (
        "The payment provider refused the request, so credits cannot be bought right now. "
        "The problem is on our side and has been recorded; retrying will not help."
    )


class PaymentDeclined(Unprocessable):
    code = "payment_declined"
    message = "The payment was declined. Use another payment method."


class IdempotencyKeyReused(Unprocessable):
    code = "idempotency_key_reused"
    message = "This Idempotency-Key was already used with a different request."


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
