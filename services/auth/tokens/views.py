"""Token endpoints: sign in, refresh, logout, the JWKS, the gateway's verify, service tokens."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.throttling import ScopedRateThrottle
from apikeys.scopes import InsufficientScope
from oasis_common.errors import ServiceError, error_response
from oasis_common.proxies import client_ip, public_origin
from oasis_common.schema import error_responses
from tokens import issuance, keys
from tokens.serializers import (
    DiscoverySerializer,
    JwksSerializer,
    LogoutSerializer,
    ServiceTokenRequestSerializer,
    ServiceTokenSerializer,
    TokenObtainSerializer,
    TokenPairSerializer,
    TokenRefreshSerializer,
)
from tokens.verification import Caller, NotAuthenticated, caller_verify

# What an access token may carry: `fam` names its sign-in; API-key tokens add `scope`, `api_key_id`.
ACCESS_TOKEN_CLAIMS = (
    "iss",
    "aud",
    "sub",
    "jti",
    "iat",
    "nbf",
    "exp",
    "token_type",
    "fam",
    "scope",
    "api_key_id",
)


class TokenObtainView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=TokenObtainSerializer,
        responses={200: TokenPairSerializer, **error_responses(400, 401, 429)},
        auth=[],
        summary="Sign in with email and password",
    )
    def post(self, request):
        serializer = TokenObtainSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        pair = issuance.login(**serializer.validated_data, ip=client_ip(request))
        return Response(pair)


class TokenRefreshView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token_refresh"

    @extend_schema(
        request=TokenRefreshSerializer,
        responses={200: TokenPairSerializer, **error_responses(400, 401, 429)},
        auth=[],
        summary="Exchange a refresh token for a new pair (the old one stops working)",
    )
    def post(self, request):
        serializer = TokenRefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(issuance.token_refresh(raw=serializer.validated_data["refresh"]))


class LogoutView(APIView):
    @extend_schema(
        request=LogoutSerializer,
        responses={204: OpenApiResponse(description="Signed out."), **error_responses(400, 401)},
        summary="Sign out: revoke this access token and the given refresh token",
    )
    def post(self, request):
        serializer = LogoutSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        issuance.logout(
            access_claims=request.user.claims,
            raw_refresh=serializer.validated_data.get("refresh"),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class JwksView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(responses={200: JwksSerializer}, auth=[], summary="Public keys that verify tokens")
    def get(self, request):
        response = Response(keys.public_jwks())
        response["Cache-Control"] = "public, max-age=300"
        return response


class DiscoveryView(APIView):
    """What a third party needs to verify our access tokens, in the shape of OpenID discovery.

    Only what is true of this service: there is no authorization endpoint, so none is named.
    Generic verifiers read the signing algorithm from `id_token_signing_alg_values_supported`,
    and RS256 signs every token auth issues. The URLs are the gateway's, as the caller reached it.
    """

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        responses={200: DiscoverySerializer},
        auth=[],
        summary="Where our tokens come from and how to verify them (OpenID-style discovery)",
    )
    def get(self, request):
        origin = public_origin(request)
        response = Response(
            {
                "issuer": settings.OASIS["JWT_ISSUER"],
                "jwks_uri": origin + reverse("jwks"),
                "token_endpoint": origin + reverse("token"),
                "id_token_signing_alg_values_supported": ["RS256"],
                "subject_types_supported": ["public"],
                "claims_supported": list(ACCESS_TOKEN_CLAIMS),
            }
        )
        response["Cache-Control"] = "public, max-age=300"
        return response


class GetOnly(ServiceError):
    status_code = status.HTTP_405_METHOD_NOT_ALLOWED
    code = "method_not_allowed"
    message = "Only GET is allowed here."


def verify(request: HttpRequest) -> HttpResponse:
    """nginx `auth_request`: 200 with the user id and the JWT to pass upstream, 401, or 403.

    The gateway names the request it is checking in X-Original-Method and X-Original-URI;
    an API key is refused (403) beyond its scope. nginx sends the client its own copy of a
    403, with the code taken from X-Oasis-Error.
    """
    try:
        caller = _verified_caller(request)
    except ServiceError as exc:
        return error_response(exc)
    response = HttpResponse(status=200)
    response["X-User-Id"] = caller.user_id
    response["X-Oasis-Token"] = caller.access_token
    response["Cache-Control"] = "private, max-age=0"
    return response


def _verified_caller(request: HttpRequest) -> Caller:
    if request.method not in ("GET", "HEAD"):
        raise GetOnly(headers={"Allow": "GET, HEAD"})
    try:
        caller = caller_verify(
            request.headers.get("Authorization", ""),
            method=request.headers.get("X-Original-Method", ""),
            uri=request.headers.get("X-Original-URI", ""),
        )
    except InsufficientScope as exc:
        exc.headers["X-Oasis-Error"] = exc.code
        raise
    if caller is None:
        # nginx copies this header onto the 401 it sends the client.
        raise NotAuthenticated(headers={"WWW-Authenticate": 'Bearer realm="oasis"'})
    return caller


class ServiceTokenView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=ServiceTokenRequestSerializer,
        responses={200: ServiceTokenSerializer, **error_responses(400, 401)},
        auth=[],
        summary="Internal: a service token for a peer service (client credentials)",
        tags=["internal"],
    )
    def post(self, request):
        serializer = ServiceTokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(issuance.service_token_issue(**serializer.validated_data))
