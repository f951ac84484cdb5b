"""File, change set and revision endpoints of a project, and the builder's snapshot and change set."""

from dataclasses import asdict

from django.conf import settings
from django.http import HttpResponse
from django.utils.http import parse_etags
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from files import history, revisions, snapshots, trees
from files.content_types import content_type_header, content_type_of
from files.raw import AnyAccept, RawBytesParser, request_bytes
from files.serializers import (
    ChangeSetSerializer,
    DiffQuerySerializer,
    DiffSerializer,
    FileDiffSerializer,
    FileEntrySerializer,
    FileListSerializer,
    FileWrittenSerializer,
    InternalChangeSetSerializer,
    InternalRestoreSerializer,
    LandedRevisionSerializer,
    RestoreSerializer,
    RevisionQuerySerializer,
    RevisionSerializer,
    SnapshotFileSerializer,
    SnapshotQuerySerializer,
    SnapshotSerializer,
)
from oasis_common.authentication import ServiceJWTAuthentication
from oasis_common.errors import NotFound
from oasis_common.idempotency.decorators import idempotent
from oasis_common.permissions import IsService
from oasis_common.schema import error_responses
from projects.ownership import OwnedProjectView, project_get
from projects.params import query
from projects.publication_serializers import publication_of

FILE_PATH = OpenApiParameter(
    "file_path", OpenApiTypes.STR, OpenApiParameter.PATH, description="The file's path, e.g. `css/site.css`."
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description='The ETag you read (`"<sha256>"`), or `*`: 412 if the file changed or is missing.',
)
IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="On PUT, `*` creates the file only if it does not exist yet (412 `file_exists` otherwise).",
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=True
)


def precondition_of(request) -> revisions.Precondition | None:
    """The request's If-Match / If-None-Match for the file it names, if it sent any."""
    if_match = request.headers.get("If-Match")
    if_none_match = request.headers.get("If-None-Match", "").strip() == "*"
    if if_match is None and not if_none_match:
        return None
    # Strong comparison: a weak validator (W/"…") never matches If-Match.
    tags = tuple(tag if tag == "*" else tag.strip('"') for tag in parse_etags(if_match or ""))
    if if_match is not None and not tags:
        tags = ("malformed",)  # an unparseable If-Match can match nothing
    return revisions.Precondition(if_match=tags, if_none_match=if_none_match)


def revision_body(project, number: int) -> dict:
    return RevisionSerializer(history.revision_get(project=project, number=number)).data


def commit_response(project, commit: revisions.Commit) -> Response:
    """201 with a new revision; 200 with the one that already stood for this change (made nothing)."""
    body = revision_body(project, commit.revision.number)
    return Response(body, status=status.HTTP_201_CREATED if commit.created else status.HTTP_200_OK)


class FileListView(OwnedProjectView):
    @extend_schema(
        parameters=[RevisionQuerySerializer],
        responses={200: FileListSerializer, **error_responses(400, 401, 404)},
        summary="The project's files (now, or at `?revision=`), sorted by path",
    )
    def get(self, request, project_id):
        revision = query(RevisionQuerySerializer, request).get("revision")
        number = trees.revision_resolve(project=self.project, revision=revision)
        entries = trees.tree_read(project=self.project, revision=number)
        return Response({"revision": number, "files": FileEntrySerializer(entries, many=True).data})


class FileView(OwnedProjectView):
    parser_classes = [RawBytesParser]
    content_negotiation_class = AnyAccept

    @extend_schema(
        parameters=[FILE_PATH, RevisionQuerySerializer],
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="The raw bytes; Content-Type from the extension, ETag the hash.",
            ),
            304: OpenApiResponse(description="Not modified (If-None-Match matched)."),
            **error_responses(400, 401, 404),
        },
        summary="Read a file's bytes",
        operation_id="projects_file_read",
    )
    def get(self, request, project_id, file_path):
        revision = query(RevisionQuerySerializer, request).get("revision")
        entry, data = trees.file_read(project=self.project, path=file_path, revision=revision)
        if entry.etag in parse_etags(request.headers.get("If-None-Match", "")):
            response = HttpResponse(status=status.HTTP_304_NOT_MODIFIED)
        else:
            response = HttpResponse(data, content_type=content_type_header(entry.path))
            # Bytes from users are never rendered on the API's origin.
            response["Content-Disposition"] = "attachment"
            response["Content-Security-Policy"] = "sandbox"
        response["ETag"] = entry.etag
        response["Cache-Control"] = "private, no-cache"
        return response

    @extend_schema(
        parameters=[FILE_PATH, IF_MATCH, IF_NONE_MATCH],
        request={"application/octet-stream": OpenApiTypes.BINARY},
        responses={
            200: FileWrittenSerializer,
            201: FileWrittenSerializer,
            **error_responses(400, 401, 404, 409, 412, 413, 422),
        },
        summary="Create or replace a file with the request body (one new revision)",
        operation_id="projects_file_write",
    )
    def put(self, request, project_id, file_path):
        written = revisions.file_write(
            project_id=project_id,
            owner_id=request.user.id,
            path=file_path,
            content=request_bytes(request),
            preconditions=precondition_of(request),
        )
        body = {**asdict(written), "content_type": content_type_of(written.path)}
        response = Response(
            FileWrittenSerializer(body).data,
            status=status.HTTP_201_CREATED if written.created else status.HTTP_200_OK,
        )
        response["ETag"] = f'"{written.sha256}"'
        return response

    @extend_schema(
        parameters=[FILE_PATH, IF_MATCH],
        responses={200: RevisionSerializer, **error_responses(400, 401, 404, 412)},
        summary="Delete a file (one new revision)",
        operation_id="projects_file_delete",
    )
    def delete(self, request, project_id, file_path):
        commit = revisions.file_delete(
            project_id=project_id,
            owner_id=request.user.id,
            path=file_path,
            preconditions=precondition_of(request),
        )
        return Response(revision_body(self.project, commit.revision.number))


class ChangeSetView(OwnedProjectView):
    @extend_schema(
        request=ChangeSetSerializer,
        responses={201: RevisionSerializer, **error_responses(400, 401, 404, 409, 413, 422)},
        summary="Apply writes, deletes and renames atomically as one revision",
    )
    def post(self, request, project_id):
        serializer = ChangeSetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        commit = revisions.revision_commit(
            project_id=project_id,
            owner_id=request.user.id,
            author_user_id=request.user.id,
            message=data["message"],
            writes=[(write["path"], write["content"]) for write in data["writes"]],
            deletes=data["deletes"],
            renames=data["renames"],
            base_revision=data["base_revision"],
        )
        return commit_response(self.project, commit)


class RevisionListView(OwnedProjectView, GenericAPIView):
    ordering_fields = ("number", "created_at")
    ordering = "-number"

    @extend_schema(
        responses={200: RevisionSerializer(many=True), **error_responses(401, 404)},
        summary="The project's revisions, newest first",
    )
    def get(self, request, project_id):
        page = self.paginate_queryset(self.filter_queryset(history.revision_list(project=self.project)))
        return self.get_paginated_response(RevisionSerializer(page, many=True).data)


class RevisionDetailView(OwnedProjectView):
    @extend_schema(responses={200: RevisionSerializer, **error_responses(401, 404)}, summary="One revision")
    def get(self, request, project_id, number):
        return Response(revision_body(self.project, number))


class RevisionDiffView(OwnedProjectView):
    @extend_schema(
        parameters=[DiffQuerySerializer],
        responses={200: DiffSerializer, **error_responses(400, 401, 404)},
        summary="What changed between two revisions: unified diffs for text, a marker for binary files",
    )
    def get(self, request, project_id):
        params = query(DiffQuerySerializer, request)
        old, new, files = history.revision_diff(
            project=self.project, old=params.get("from"), new=params.get("to")
        )
        return Response({"from": old, "to": new, "files": FileDiffSerializer(files, many=True).data})


class RevisionRestoreView(OwnedProjectView):
    @extend_schema(
        request=RestoreSerializer,
        responses={
            201: RevisionSerializer,
            200: OpenApiResponse(
                RevisionSerializer,
                description="The tree already equals revision n: the current revision; none is made.",
            ),
            **error_responses(400, 401, 404, 422),
        },
        summary="Make a new revision equal to revision n (history is kept)",
    )
    def post(self, request, project_id, number):
        serializer = RestoreSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if number == 0:
            raise NotFound("Revision 0 does not exist.", code="revision_not_found")
        commit = revisions.revision_restore(
            project_id=project_id,
            owner_id=request.user.id,
            number=number,
            author_user_id=request.user.id,
            message=serializer.validated_data["message"],
        )
        return commit_response(self.project, commit)


class InternalRestoreView(APIView):
    authentication_classes = [ServiceJWTAuthentication]
    permission_classes = [IsService]

    @extend_schema(
        request=InternalRestoreSerializer,
        responses={
            201: LandedRevisionSerializer,
            200: OpenApiResponse(
                LandedRevisionSerializer,
                description="The tree already equals that revision: the current revision; none is made.",
            ),
            **error_responses(400, 401, 403, 404),
        },
        summary="Internal: make a new revision equal to revision n for the owner (a conversation's rewind)",
        tags=["internal"],
    )
    def post(self, request, project_id):
        serializer = InternalRestoreSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        commit = revisions.revision_restore(
            project_id=project_id,
            owner_id=data["owner_id"],
            number=data["revision"],
            author_user_id=data["owner_id"],
            message=data["message"],
        )
        project = project_get(project_id=project_id, owner_id=data["owner_id"])
        if commit.revision is None:
            # Still empty, as before its first revision: nothing to make, nothing to answer but that.
            return Response({"number": 0, "publication": publication_of(project)})
        response = commit_response(project, commit)
        response.data["publication"] = publication_of(project)
        return response


class InternalSnapshotView(APIView):
    authentication_classes = [ServiceJWTAuthentication]
    permission_classes = [IsService]

    @extend_schema(
        parameters=[SnapshotQuerySerializer],
        responses={200: SnapshotSerializer, **error_responses(400, 401, 403, 404)},
        summary="Internal: every file of a revision, with text contents within a byte budget",
        tags=["internal"],
    )
    def get(self, request, project_id):
        params = query(SnapshotQuerySerializer, request)
        project = project_get(owner_id=params["owner_id"], project_id=project_id)
        ceiling = settings.OASIS["SNAPSHOT_MAX_BYTES"]
        budget = min(params.get("max_bytes", ceiling), ceiling)
        snapshot = snapshots.snapshot_take(project=project, revision=params.get("revision"), budget=budget)
        return Response(
            {
                "project_id": project.pk,
                "revision": snapshot.revision,
                "budget": snapshot.budget,
                "content_bytes": snapshot.content_bytes,
                "files": SnapshotFileSerializer(snapshot.files, many=True).data,
                "publication": publication_of(project),
            }
        )


class InternalChangeSetView(APIView):
    authentication_classes = [ServiceJWTAuthentication]
    permission_classes = [IsService]

    @extend_schema(
        parameters=[IDEMPOTENCY_KEY],
        request=InternalChangeSetSerializer,
        responses={
            201: LandedRevisionSerializer,
            200: OpenApiResponse(
                LandedRevisionSerializer, description="This generation was already applied."
            ),
            **error_responses(400, 401, 403, 404, 409, 413, 422),
        },
        summary="Internal: apply a generation's change set for the owner (idempotent by generation_id)",
        tags=["internal"],
    )
    @idempotent
    def post(self, request, project_id):
        serializer = InternalChangeSetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        commit = revisions.revision_commit(
            project_id=project_id,
            owner_id=data["owner_id"],
            author_user_id=data["owner_id"],
            message=data["message"],
            writes=[(write["path"], write["content"]) for write in data["writes"]],
            deletes=data["deletes"],
            renames=data["renames"],
            base_revision=data["base_revision"],
            generation_id=data["generation_id"],
        )
        response = commit_response(commit.revision.project, commit)
        # The builder tells its user at once whether the revision it landed is the live one.
        response.data["publication"] = publication_of(commit.revision.project)
        return response
