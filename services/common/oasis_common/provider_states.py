"""Provider states for contract verification: a test-only hook that production never routes.

Before Pact's verifier replays a consumer's interaction against a running provider, it
asks the provider to put itself in the state the interaction names ("an open hold"),
with `POST /_provider-states {"state", "params", "action"}`. Each provider service
lists its states in a module of plain functions, `STATES = {name: function}`; a
function builds the data with the service's own domain functions and returns the
values the interaction needs (ids the provider chose), which Pact injects into the
replayed request.

The route exists only when `OASIS_PROVIDER_STATES` is on, which the shared settings
refuse in production (and `provider_state_urls` refuses again); it is outside `/api/`,
so the gateway never routes it either.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import path
from django.utils.module_loading import import_string
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from oasis_common.conf import oasis_settings
from oasis_common.errors import NotFound

PATH = "_provider-states"


class ProviderStateSerializer(serializers.Serializer):
    state = serializers.CharField(allow_blank=True, help_text="Empty for an interaction that needs none.")
    action = serializers.ChoiceField(choices=["setup", "teardown"], default="setup")
    params = serializers.DictField(required=False, default=dict)


class ProviderStateView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    schema = None
    states_module = ""

    def post(self, request):
        serializer = ProviderStateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data["action"] == "teardown" or not data["state"]:
            # Every state builds fresh data under new ids; there is nothing to undo or to set up.
            return Response({})
        handler = import_string(f"{self.states_module}.STATES").get(data["state"])
        if handler is None:
            raise NotFound(f"No provider state {data['state']!r}.", code="unknown_provider_state")
        return Response(handler(**data["params"]) or {})


def provider_state_urls(states_module: str) -> list:
    """The hook's route when provider states are on outside production; no route otherwise."""
    if not oasis_settings.PROVIDER_STATES:
        return []
    if settings.OASIS_ENVIRONMENT == "production":
        raise ImproperlyConfigured("Provider states must never be routed in production")
    return [path(PATH, ProviderStateView.as_view(states_module=states_module), name="provider-states")]
