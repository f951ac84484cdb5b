"""Internal endpoints for publishing a site: a revision's manifest, and blob contents in bounded batches."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from files import manifests
from files.content_types import content_type_of
from files.manifest_serializers import (
    BlobBatchRequestSerializer,
    BlobBatchSerializer,
    ManifestQuerySerializer,
    ManifestSerializer,
)
from oasis_common.authentication import ServiceJWTAuthentication
from oasis_common.permissions import IsService
from oasis_common.schema import error_responses
from projects.ownership import project_get
from projects.params import query

REVISION = OpenApiParameter(
    "revision", OpenApiTypes.STR, OpenApiParameter.PATH, description="A revision number, or `current`."
)


def _revision_number(raw: str) -> int | None:
    if raw == "current":
        return None
    if not raw.isdigit():
        raise ValidationError({"revision": ["A revision number, or `current`."]})
    return int(raw)


class InternalManifestView(APIView):
    authentication_classes = [ServiceJWTAuthentication]
    permission_classes = [IsService]

    @extend_schema(
        parameters=[REVISION, ManifestQuerySerializer],
        responses={200: ManifestSerializer, **error_responses(400, 401, 403, 404)},
        summary="Internal: every file of a revision with its hash, size and type (for publishing a site)",
        tags=["internal"],
    )
    def get(self, request, project_id, revision):
        owner_id = query(ManifestQuerySerializer, request)["owner_id"]
        project = project_get(owner_id=owner_id, project_id=project_id)
        manifest = manifests.manifest_read(project=project, revision=_revision_number(revision))
        files = [
            {
                "path": entry.path,
                "sha256": entry.sha256,
                "size": entry.size,
                "content_type": content_type_of(entry.path),
            }
            for entry in manifest.files
        ]
        body = {
            "project_id": project.pk,
            "revision": manifest.revision,
            "file_count": len(files),
            "size": sum(entry.size for entry in manifest.files),
            "files": files,
        }
        return Response(ManifestSerializer(body).data)


class InternalBlobBatchView(APIView):
    """A POST because a list of hashes is too long for a URL; it only reads, so takes no Idempotency-Key."""

    authentication_classes = [ServiceJWTAuthentication]
    permission_classes = [IsService]

    @extend_schema(
        request=BlobBatchRequestSerializer,
        responses={200: BlobBatchSerializer, **error_responses(400, 401, 403, 404)},
        summary="Internal: the contents of some of a project's blobs, by hash, within a byte budget",
        tags=["internal"],
    )
    def post(self, request, project_id):
        serializer = BlobBatchRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        project = project_get(owner_id=data["owner_id"], project_id=project_id)
        blobs = manifests.blobs_read(project=project, sha256s=data["sha256"], max_bytes=data["max_bytes"])
        rows = [{"sha256": sha, "size": len(content), "data": content} for sha, content in blobs]
        return Response(BlobBatchSerializer({"blobs": rows}).data)
