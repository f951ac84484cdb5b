"""Views that put the platform library in front of real requests."""

from django.conf import settings
from django.db import connection
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from oasis_common.authentication import ServiceJWTAuthentication
from oasis_common.client import ServiceClient
from oasis_common.idempotency.decorators import idempotent
from oasis_common.ordering import OrderingFilter
from oasis_common.pagination import Pagination
from oasis_common.permissions import IsService
from tests.testapp import widgets
from tests.testapp.serializers import WidgetSerializer


class WhoAmIView(APIView):
    """The default authentication: a user's access token."""

    def get(self, request):
        principal = request.user
        return Response({"id": principal.id, "token_type": principal.token_type})


class WidgetListCreateView(APIView):
    pagination_class = Pagination
    filter_backends = [OrderingFilter]
    ordering_fields = ("name", "quantity")
    ordering = "quantity"

    @extend_schema(responses=WidgetSerializer(many=True))
    def get(self, request):
        queryset = OrderingFilter().filter_queryset(request, widgets.widget_list(owner=request.user.id), self)
        paginator = Pagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(WidgetSerializer(page, many=True).data)

    def post(self, request):
        serializer = WidgetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        widget = widgets.widget_create(owner=request.user.id, **serializer.validated_data)
        return Response(WidgetSerializer(widget).data, status=201)


class BrokenQueryView(APIView):
    """A view whose SQL fails: the 500 it causes must not show the query."""

    def get(self, request):
        with connection.cursor() as cursor:
            cursor.execute("SELECT secret_column FROM no_such_table")
        return Response({})


class PeerEchoView(APIView):
    """Asks the payments peer and passes its answer on."""

    def get(self, request):
        response = ServiceClient("payments", settings.PAYMENTS_URL).get("/internal/v1/ping")
        return Response(response.json(), status=response.status_code)


class InternalWhoAmIView(APIView):
    authentication_classes = [ServiceJWTAuthentication]
    permission_classes = [IsService]

    def get(self, request):
        return Response({"id": request.user.id, "service": request.user.service_name})


class InternalWidgetCreateView(APIView):
    """An internal write: the idempotent create every service has."""

    authentication_classes = [ServiceJWTAuthentication]
    permission_classes = [IsService]

    @idempotent
    def post(self, request):
        serializer = WidgetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        widget = widgets.widget_create(owner=request.user.id, **serializer.validated_data)
        return Response(WidgetSerializer(widget).data, status=201)


def plain_django_crash(request):
    raise RuntimeError("SELECT * FROM accounts_user -- /srv/app/secret.py")
