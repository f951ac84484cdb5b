"""oasis_common.ownership: the owned object is loaded after authentication and before the request is read."""

import uuid

import pytest
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from oasis_common.errors import NotFound
from oasis_common.ownership import OwnedObjectMixin
from oasis_common.testing import user_token

OWNER = "5b1c6c1e-8f0b-4e43-9d1a-2f7f3c1d9a10"
THING = uuid.UUID("0b7a5f4e-2c1d-4e3f-8a9b-6c5d4e3f2a1b")


class RenameSerializer(serializers.Serializer):
    name = serializers.CharField()


class ThingView(OwnedObjectMixin, APIView):
    loaded: list = []

    def load_owned(self, request, *, thing_id) -> None:
        self.loaded.append(thing_id)
        if str(request.user.id) != OWNER:
            raise NotFound("No such thing.")
        self.thing = thing_id

    def post(self, request, thing_id):
        serializer = RenameSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response({"thing": str(self.thing), **serializer.validated_data})


def post(body, user_id=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {user_token(user_id)}"} if user_id else {}
    request = APIRequestFactory().post(f"/things/{THING}/", body, format="json", **headers)
    response = ThingView.as_view()(request, thing_id=THING)
    response.render()
    return response


@pytest.fixture(autouse=True)
def _fresh_log():
    ThingView.loaded = []


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": ["a", "list"]}])
def test_a_strangers_invalid_body_is_a_404_not_a_400(body):
    response = post(body, user_id=uuid.uuid4())

    assert response.status_code == 404
    assert response.data["error"]["code"] == "not_found"


def test_the_owner_gets_the_validation_error_and_then_the_object():
    assert post({}, user_id=OWNER).status_code == 400
    assert post({"name": "new"}, user_id=OWNER).data == {"thing": str(THING), "name": "new"}


def test_nothing_is_loaded_for_a_caller_without_credentials():
    response = post({"name": "new"})

    assert response.status_code == 401
    assert ThingView.loaded == []
