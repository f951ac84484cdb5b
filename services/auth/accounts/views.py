"""Account endpoints: register, the caller's profile, password change and reset."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import users
from accounts.models import User
from accounts.permissions import IsSignedIn
from accounts.registration_limits import RegistrationThrottle
from accounts.serializers import (
    MeUpdateSerializer,
    PasswordChangeSerializer,
    PasswordResetAcceptedSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetSerializer,
    RegisterSerializer,
    UserSerializer,
)
from accounts.throttling import ScopedRateThrottle
from apikeys import scopes
from oasis_common.authentication import InvalidToken
from oasis_common.proxies import client_ip
from oasis_common.schema import error_responses
from tokens.issuance import token_pair
from tokens.serializers import RegisteredSerializer, TokenPairSerializer


def current_user(request) -> User:
    user = User.objects.filter(pk=request.user.id, is_active=True).first()
    if user is None:
        raise InvalidToken()
    return user


class RegisterView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [RegistrationThrottle]

    @extend_schema(
        request=RegisterSerializer,
        responses={201: RegisteredSerializer, **error_responses(400, 429)},
        auth=[],
        summary="Create an account; the answer signs it in (a token pair, as from token/)",
    )
    def post(self, request):
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = users.user_register(**serializer.validated_data)
        body = {**UserSerializer(user).data, **token_pair(user=user)}
        return Response(body, status=status.HTTP_201_CREATED)


class MeView(APIView):
    @extend_schema(responses={200: UserSerializer, **error_responses(401)}, summary="Your profile")
    def get(self, request):
        return Response(UserSerializer(current_user(request)).data)

    @extend_schema(
        request=MeUpdateSerializer,
        responses={200: UserSerializer, **error_responses(400, 401, 403, 429)},
        summary="Change your name or email (email needs current_password, and a sign-in, not an API key)",
    )
    def patch(self, request):
        user = current_user(request)
        serializer = MeUpdateSerializer(data=request.data, context={"user": user})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if "email" in data and scopes.via_api_key(request.user):
            raise scopes.AccountOnly()
        if "current_password" in data:  # required exactly when the email changes
            users.password_verify(user=user, password=data["current_password"], ip=client_ip(request))
        user = users.user_update(user=user, name=data.get("name"), email=data.get("email"))
        return Response(UserSerializer(user).data)


class PasswordChangeView(APIView):
    permission_classes = [IsSignedIn]

    @extend_schema(
        request=PasswordChangeSerializer,
        responses={200: TokenPairSerializer, **error_responses(400, 401, 403, 429)},
        summary="Change your password; every earlier token stops working, a new pair is returned",
    )
    def post(self, request):
        user = current_user(request)
        serializer = PasswordChangeSerializer(data=request.data, context={"user": user})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        users.password_verify(user=user, password=data["current_password"], ip=client_ip(request))
        users.password_change(user=user, new_password=data["new_password"])
        return Response(token_pair(user=user))


class PasswordResetView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "password_reset"

    @extend_schema(
        request=PasswordResetSerializer,
        responses={
            202: OpenApiResponse(
                PasswordResetAcceptedSerializer, description="Accepted, whether or not the email exists."
            ),
            **error_responses(400, 429),
        },
        auth=[],
        summary="Email a password reset link (the answer never says whether the account exists)",
    )
    def post(self, request):
        serializer = PasswordResetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        users.password_reset_request(email=serializer.validated_data["email"])
        return Response(
            {"detail": "If an account exists for this email, a reset link is on its way."},
            status=status.HTTP_202_ACCEPTED,
        )


class PasswordResetConfirmView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "password_reset_confirm"

    @extend_schema(
        request=PasswordResetConfirmSerializer,
        responses={204: OpenApiResponse(description="Password changed."), **error_responses(400, 429)},
        auth=[],
        summary="Set a new password with the emailed link (works once)",
    )
    def post(self, request):
        serializer = PasswordResetConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        users.password_reset_confirm(**serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)
