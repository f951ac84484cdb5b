"""The public model catalog."""

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import registry
from catalog.serializers import LanguageModelSerializer
from oasis_common.ordering import OrderingFilter


class ModelListView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    filter_backends = [OrderingFilter]
    ordering_fields = ("display_name", "input_price", "output_price")
    # The catalog's own order: the one its models are presented in.
    ordering = None

    @extend_schema(
        responses={200: LanguageModelSerializer(many=True)},
        auth=[],
        summary="The models a generation may use, with their prices in credits",
    )
    def get(self, request):
        models = OrderingFilter().filter_queryset(request, registry.model_list(), self)
        return Response(LanguageModelSerializer(models, many=True).data)
