"""The internal endpoint through which the sites service tells projects what a project's sites serve."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from oasis_common.authentication import ServiceJWTAuthentication
from oasis_common.ownership import OwnedObjectMixin
from oasis_common.permissions import IsService
from oasis_common.schema import error_responses
from projects.models import Project
from projects.ownership import project_get
from projects.params import query
from projects.publication_serializers import (
    PublicationSerializer,
    PublicationUpdateSerializer,
    publication_of,
)
from projects.publications import publication_record
from projects.serializers import OwnerQuerySerializer


class InternalPublicationView(OwnedObjectMixin, APIView):
    # A PUT of a versioned state is idempotent by nature (a repeat or an older version changes
    # nothing), so it takes no Idempotency-Key. The owner is in the query, so another owner's
    # project is a 404 before the body is read.
    authentication_classes = [ServiceJWTAuthentication]
    permission_classes = [IsService]
    project: Project

    def load_owned(self, request, *, project_id, **url_kwargs) -> None:
        owner_id = query(OwnerQuerySerializer, request)["owner_id"]
        self.project = project_get(owner_id=owner_id, project_id=project_id)

    @extend_schema(
        parameters=[OwnerQuerySerializer],
        request=PublicationUpdateSerializer,
        responses={200: PublicationSerializer, **error_responses(400, 401, 403, 404)},
        summary="Internal: what one of the project's sites serves now (from sites; versioned, idempotent)",
        tags=["internal"],
    )
    def put(self, request, project_id):
        serializer = PublicationUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        publication_record(project=self.project, **serializer.validated_data)
        return Response(publication_of(project_get(owner_id=self.project.owner_id, project_id=project_id)))
