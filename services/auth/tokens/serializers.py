"""Request and response shapes of the token endpoints."""

from rest_framework import serializers

from accounts.serializers import UserSerializer, password_field

MAX_TOKEN_LENGTH = 4096


class TokenObtainSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = password_field()


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()
    token_type = serializers.CharField()
    expires_in = serializers.IntegerField(help_text="Seconds until the access token expires.")


class RegisteredSerializer(TokenPairSerializer, UserSerializer):
    """A new account, signed in: its profile and a token pair, as sign-in answers one."""

    class Meta(UserSerializer.Meta):
        fields = [*UserSerializer.Meta.fields, *TokenPairSerializer._declared_fields]
        read_only_fields = fields


class TokenRefreshSerializer(serializers.Serializer):
    refresh = serializers.CharField(max_length=MAX_TOKEN_LENGTH)


class LogoutSerializer(serializers.Serializer):
    refresh = serializers.CharField(max_length=MAX_TOKEN_LENGTH, required=False, allow_blank=True)


class ServiceTokenRequestSerializer(serializers.Serializer):
    client_id = serializers.CharField(max_length=64)
    client_secret = serializers.CharField(max_length=256, trim_whitespace=False)
    audience = serializers.CharField(max_length=64)


class ServiceTokenSerializer(serializers.Serializer):
    access = serializers.CharField()
    token_type = serializers.CharField()
    expires_in = serializers.IntegerField()


class JwkSerializer(serializers.Serializer):
    kty = serializers.CharField()
    kid = serializers.CharField()
    use = serializers.CharField()
    alg = serializers.CharField()
    n = serializers.CharField()
    e = serializers.CharField()


class JwksSerializer(serializers.Serializer):
    keys = JwkSerializer(many=True)


class DiscoverySerializer(serializers.Serializer):
    issuer = serializers.CharField(help_text="The `iss` of every token.")
    jwks_uri = serializers.URLField(help_text="The public keys; pick one by the token's `kid`.")
    token_endpoint = serializers.URLField(help_text="Sign-in (email and password, as JSON).")
    id_token_signing_alg_values_supported = serializers.ListField(child=serializers.CharField())
    subject_types_supported = serializers.ListField(child=serializers.CharField())
    claims_supported = serializers.ListField(child=serializers.CharField())
