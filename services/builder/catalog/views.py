"""The public model catalog."""

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import catalog
from catalog.serializers import LanguageModelSerializer


class ModelListView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        responses={200: LanguageModelSerializer(many=True)},
        auth=[],
        summary="The models a generation may use, with their prices in credits",
    )
    def get(self, request):
        return Response(LanguageModelSerializer(catalog.model_list(), many=True).data)
