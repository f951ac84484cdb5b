"""Project endpoints: list, create, read, change, delete; templates; export and import; internal metadata."""

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from files.raw import AnyAccept
from files.serializers import RevisionQuerySerializer
from files.trees import revision_resolve
from oasis_common.authentication import ServiceJWTAuthentication
from oasis_common.ordering import OrderingFilter
from oasis_common.permissions import IsService
from oasis_common.schema import error_responses
from projects import archives, lifecycle, starters
from projects.ownership import OwnedProjectView, project_get
from projects.params import query
from projects.serializers import (
    OwnedProjectSerializer,
    OwnerQuerySerializer,
    ProjectCreateSerializer,
    ProjectImportSerializer,
    ProjectListQuerySerializer,
    ProjectSerializer,
    ProjectUpdateSerializer,
    TemplateSerializer,
)


class ProjectListView(GenericAPIView):
    # What OPTIONS describes for POST; each method names its own serializers below.
    serializer_class = ProjectCreateSerializer
    ordering_fields = ("updated_at", "created_at", "name")
    ordering = "-updated_at"

    @extend_schema(
        parameters=[ProjectListQuerySerializer],
        responses={200: ProjectSerializer(many=True), **error_responses(400, 401, 404)},
        summary="Your projects, most recently changed first",
    )
    def get(self, request):
        search = query(ProjectListQuerySerializer, request).get("search", "")
        queryset = lifecycle.project_list(owner_id=request.user.id, search=search)
        page = self.paginate_queryset(self.filter_queryset(queryset))
        return self.get_paginated_response(ProjectSerializer(page, many=True).data)

    @extend_schema(
        request=ProjectCreateSerializer,
        responses={201: ProjectSerializer, **error_responses(400, 401, 409)},
        summary="Create a project, empty or from a template (which makes revision 1)",
    )
    def post(self, request):
        serializer = ProjectCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        project = lifecycle.project_create(owner_id=request.user.id, **serializer.validated_data)
        return Response(ProjectSerializer(project).data, status=status.HTTP_201_CREATED)


class ProjectDetailView(OwnedProjectView):
    @extend_schema(responses={200: ProjectSerializer, **error_responses(401, 404)}, summary="One project")
    def get(self, request, project_id):
        return Response(ProjectSerializer(self.project).data)

    @extend_schema(
        request=ProjectUpdateSerializer,
        responses={200: ProjectSerializer, **error_responses(400, 401, 404, 409)},
        summary="Rename a project or change its description",
    )
    def patch(self, request, project_id):
        serializer = ProjectUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        project = lifecycle.project_update(
            owner_id=request.user.id, project_id=project_id, **serializer.validated_data
        )
        return Response(ProjectSerializer(project).data)

    @extend_schema(
        responses={
            204: OpenApiResponse(description="Deleted, with its history."),
            **error_responses(401, 404),
        },
        summary="Delete a project and its whole history",
    )
    def delete(self, request, project_id):
        lifecycle.project_delete(owner_id=request.user.id, project_id=project_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TemplateListView(APIView):
    filter_backends = [OrderingFilter]
    ordering_fields = ("name",)
    # The templates' own order: the one they are offered in.
    ordering = None

    @extend_schema(
        responses={200: TemplateSerializer(many=True), **error_responses(401)},
        summary="Starter templates a project can be created from",
    )
    def get(self, request):
        templates = OrderingFilter().filter_queryset(request, starters.starter_list(), self)
        return Response(TemplateSerializer(templates, many=True).data)


class ProjectImportView(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": ProjectImportSerializer},
        responses={201: ProjectSerializer, **error_responses(400, 401, 409, 413, 422)},
        summary="Create a project from an uploaded zip (multipart field `file`)",
    )
    def post(self, request):
        serializer = ProjectImportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        project = archives.project_import(
            owner_id=request.user.id,
            name=data["name"],
            description=data["description"],
            upload=data["file"],
            size=data["file"].size,
        )
        return Response(ProjectSerializer(project).data, status=status.HTTP_201_CREATED)


class ProjectExportView(OwnedProjectView):
    content_negotiation_class = AnyAccept

    @extend_schema(
        parameters=[RevisionQuerySerializer],
        responses={
            (200, "application/zip"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The same revision always gives the same bytes."
            ),
            **error_responses(400, 401, 404),
        },
        summary="Download a revision (default: the current one) as a zip",
    )
    def get(self, request, project_id):
        revision = query(RevisionQuerySerializer, request).get("revision")
        number = revision_resolve(project=self.project, revision=revision)
        response = StreamingHttpResponse(
            archives.archive_stream(project=self.project, revision=number), content_type="application/zip"
        )
        filename = archives.archive_filename(project=self.project, revision=number)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "private, no-cache"
        return response


class InternalProjectView(APIView):
    authentication_classes = [ServiceJWTAuthentication]
    permission_classes = [IsService]

    @extend_schema(
        parameters=[OwnerQuerySerializer],
        responses={200: OwnedProjectSerializer, **error_responses(400, 401, 403, 404)},
        summary="Internal: a project's metadata, if it belongs to owner_id",
        tags=["internal"],
    )
    def get(self, request, project_id):
        owner_id = query(OwnerQuerySerializer, request)["owner_id"]
        project = project_get(owner_id=owner_id, project_id=project_id)
        return Response(OwnedProjectSerializer(project).data)
