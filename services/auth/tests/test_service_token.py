"""POST /internal/v1/service-token: client credentials in, a service token for one audience out."""

import jwt
import pytest
from django.conf import settings as django_settings
from django.test import RequestFactory, override_settings

from oasis_common.authentication import InvalidToken, ServiceJWTAuthentication
from tests.helpers import claims_of, error_of, me, verify
from tokens import keys

URL = "/internal/v1/service-token"
SECRET = "projects-client-secret"


@pytest.fixture(autouse=True)
def clients(settings):
    settings.OASIS = {**settings.OASIS, "SERVICE_CLIENTS": {"projects": SECRET, "builder": "builder-secret"}}


def issue(api, client_id="projects", client_secret=SECRET, audience="payments", **extra):
    body = {"client_id": client_id, "client_secret": client_secret, "audience": audience}
    return api.post(URL, body, format="json", **extra)


def authenticate_as(service: str, token: str):
    """What `service` makes of the token with the platform's ServiceJWTAuthentication."""
    with override_settings(OASIS={**django_settings.OASIS, "SERVICE_NAME": service}):
        request = RequestFactory().get("/internal/v1/anything", HTTP_AUTHORIZATION=f"Bearer {token}")
        return ServiceJWTAuthentication().authenticate(request)


def test_the_right_credentials_get_a_service_token(api, db, settings):
    response = issue(api)

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"access", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == settings.OASIS["SERVICE_TOKEN_LIFETIME"]


def test_the_service_token_names_the_caller_and_the_audience(api, db, settings):
    token = issue(api, audience="payments").json()["access"]

    claims = claims_of(token)
    assert claims["token_type"] == "service"
    assert claims["sub"] == "service:projects"
    assert claims["aud"] == "payments"
    assert claims["iss"] == settings.OASIS["JWT_ISSUER"]
    assert claims["exp"] - claims["iat"] == settings.OASIS["SERVICE_TOKEN_LIFETIME"]
    assert claims["jti"]
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256"
    assert header["kid"] == keys.keyring().signing_kid


def test_the_audience_accepts_the_service_token(api, db):
    token = issue(api, audience="payments").json()["access"]

    principal, raw = authenticate_as("payments", token)

    assert raw == token
    assert principal.is_service
    assert principal.service_name == "projects"


def test_another_service_refuses_a_token_not_addressed_to_it(api, db):
    token = issue(api, audience="payments").json()["access"]

    with pytest.raises(InvalidToken):
        authenticate_as("builder", token)


def test_a_service_token_is_not_a_user_token(api, db):
    token = issue(api, audience="auth").json()["access"]

    error_of(verify(api, token), 401, "not_authenticated")
    error_of(me(api, token), 401)


def test_a_user_token_is_not_a_service_token(api, tokens):
    with pytest.raises(InvalidToken):
        authenticate_as("payments", tokens["access"])


@pytest.mark.parametrize(
    ("client_id", "client_secret"),
    [
        ("projects", "wrong secret"),
        ("projects", SECRET.upper()),
        ("projects", SECRET + " "),
        ("projects", "builder-secret"),
        ("nobody", SECRET),
        ("auth", "anything"),
    ],
    ids=["wrong", "case-changed", "trailing-space", "other-clients-secret", "unknown-client", "auth-itself"],
)
def test_wrong_credentials_are_refused(api, db, client_id, client_secret):
    error_of(issue(api, client_id=client_id, client_secret=client_secret), 401, "invalid_client")


def test_an_unknown_client_and_a_wrong_secret_get_the_same_answer(api, db):
    wrong_secret = issue(
        api, client_id="projects", client_secret="guess", HTTP_X_REQUEST_ID="same-request-id"
    )
    unknown = issue(api, client_id="nobody", client_secret="guess", HTTP_X_REQUEST_ID="same-request-id")

    error_of(wrong_secret, 401, "invalid_client")
    assert unknown.content == wrong_secret.content


@pytest.mark.parametrize("audience", ["billing", "PAYMENTS", "oasis-api", "service:payments"])
def test_an_unknown_audience_is_refused(api, db, audience):
    error = error_of(issue(api, audience=audience), 400, "invalid_audience")

    assert audience in error["message"]


def test_an_unknown_audience_is_only_checked_after_the_credentials(api, db):
    error_of(issue(api, client_secret="wrong", audience="billing"), 401, "invalid_client")


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"client_id", "client_secret", "audience"}),
        ({"client_id": "projects", "client_secret": SECRET}, {"audience"}),
        ({"client_id": "", "client_secret": "", "audience": ""}, {"client_id", "client_secret", "audience"}),
        ({"client_id": ["projects"], "client_secret": SECRET, "audience": "payments"}, {"client_id"}),
        ({"client_id": "projects", "client_secret": "x" * 257, "audience": "payments"}, {"client_secret"}),
    ],
    ids=["empty", "no-audience", "blank", "list", "secret-too-long"],
)
def test_a_malformed_request_is_a_validation_error(api, db, body, fields):
    error = error_of(api.post(URL, body, format="json"), 400, "validation_error")

    assert set(error["details"]) == fields
