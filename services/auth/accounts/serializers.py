"""Request and response shapes of the account endpoints."""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from accounts.models import User

# Long enough for any passphrase, short enough that hashing it costs nothing unusual.
MAX_PASSWORD_LENGTH = 256


def password_field(**kwargs) -> serializers.CharField:
    return serializers.CharField(
        max_length=MAX_PASSWORD_LENGTH,
        trim_whitespace=False,
        write_only=True,
        style={"input_type": "password"},
        **kwargs,
    )


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "name", "date_joined"]
        read_only_fields = fields


class RegisterSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = password_field()
    name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        candidate = User(email=attrs["email"], name=attrs.get("name", ""))
        try:
            validate_password(attrs["password"], user=candidate)
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"password": list(exc.messages)}) from exc
        return attrs


class MeUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False)
    current_password = password_field(required=False)

    def validate(self, attrs):
        user = self.context["user"]
        email = attrs.get("email")
        # Whether the password is right is checked by users.password_verify, which counts wrong guesses.
        if email is not None and email.strip().lower() != user.email and not attrs.get("current_password"):
            raise serializers.ValidationError(
                {"current_password": ["Changing the email needs your current password."]}
            )
        return attrs


class PasswordChangeSerializer(serializers.Serializer):
    current_password = password_field()
    new_password = password_field()

    def validate(self, attrs):
        user = self.context["user"]
        try:
            validate_password(attrs["new_password"], user=user)
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"new_password": list(exc.messages)}) from exc
        return attrs


class PasswordResetSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class PasswordResetAcceptedSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="The same words whether or not the account exists.")


class PasswordResetConfirmSerializer(serializers.Serializer):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)
    new_password = password_field()
