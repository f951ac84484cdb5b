"""Preview endpoints: create a signed link (API), and serve a project's files through one (public)."""

from django.http import HttpResponse, HttpResponseRedirect
from django.utils.http import parse_etags
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_safe
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from files.content_types import content_type_header
from oasis_common.errors import ServiceError, json_error
from oasis_common.schema import error_responses
from previews.links import preview_create, preview_grant
from previews.serializers import PreviewCreateSerializer, PreviewLinkSerializer
from previews.serving import FolderRedirect, preview_read
from projects.ownership import OwnedProjectView

# No allow-same-origin: the page runs in an opaque origin and can never read the API's.
SANDBOX = "sandbox allow-scripts allow-forms allow-popups allow-modals"


class PreviewCreateView(OwnedProjectView):
    @extend_schema(
        request=PreviewCreateSerializer,
        responses={201: PreviewLinkSerializer, **error_responses(400, 401, 404)},
        summary="A signed, expiring link that shows the project's site",
    )
    def post(self, request, project_id):
        serializer = PreviewCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        link = preview_create(project=self.project, **serializer.validated_data)
        return Response(PreviewLinkSerializer(link).data, status=status.HTTP_201_CREATED)


def _sandboxed(response: HttpResponse) -> HttpResponse:
    response["Content-Security-Policy"] = SANDBOX
    response["X-Content-Type-Options"] = "nosniff"
    # The token is in the URL: never hand it to another site in a Referer.
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "private, no-cache"
    return response


@xframe_options_exempt  # the app shows previews in an iframe; the CSP sandbox is the isolation
@require_safe
def preview_serve(request, token: str, path: str = ""):
    grant = preview_grant(token)
    try:
        if grant is None:
            raise ServiceError(status_code=404)
        found = preview_read(grant=grant, path=path)
    except ServiceError:
        return _sandboxed(json_error(404, "not_found", "Not found."))
    if isinstance(found, FolderRedirect):
        return _sandboxed(HttpResponseRedirect(found.location))
    if found.entry.etag in parse_etags(request.headers.get("If-None-Match", "")):
        response = HttpResponse(status=status.HTTP_304_NOT_MODIFIED)
    else:
        response = HttpResponse(found.data, content_type=content_type_header(found.entry.path))
    response["ETag"] = found.entry.etag
    return _sandboxed(response)
