"""Site and deployment endpoints: create, read, rename, delete; publish, list, roll back, unpublish."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from hosting import domains, publishing, sites
from hosting.models import Site
from hosting.serializers import (
    DeploymentDetailSerializer,
    DeploymentSerializer,
    DomainCreateSerializer,
    DomainSerializer,
    PublishSerializer,
    RollbackSerializer,
    SiteCreateSerializer,
    SiteSerializer,
    SiteUpdateSerializer,
)
from oasis_common.ownership import OwnedObjectMixin
from oasis_common.schema import error_responses


# `self.site` is the caller's site named by the URL; another user's is a 404 before the body is read.
# (A comment, not a docstring: view docstrings become descriptions in the public schema.)
class OwnedSiteMixin(OwnedObjectMixin):
    site: Site

    def load_owned(self, request, *, site_id, **url_kwargs) -> None:
        self.site = sites.site_get(owner_id=request.user.id, site_id=site_id)


class OwnedSiteView(OwnedSiteMixin, APIView):
    pass


class SiteListView(GenericAPIView):
    serializer_class = SiteCreateSerializer
    ordering_fields = ("created_at", "slug")
    ordering = "-created_at"

    @extend_schema(
        responses={200: SiteSerializer(many=True), **error_responses(400, 401, 404)}, summary="Your sites"
    )
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(sites.sites_of(owner_id=request.user.id)))
        return self.get_paginated_response(SiteSerializer(page, many=True).data)

    @extend_schema(
        request=SiteCreateSerializer,
        responses={201: SiteSerializer, **error_responses(400, 401, 404, 409, 503)},
        summary="Create a site for one of your projects (unpublished until you publish a revision)",
    )
    def post(self, request):
        serializer = SiteCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        site = sites.site_create(owner_id=request.user.id, **serializer.validated_data)
        return Response(SiteSerializer(site).data, status=status.HTTP_201_CREATED)


class SiteDetailView(OwnedSiteView):
    @extend_schema(responses={200: SiteSerializer, **error_responses(401, 404)}, summary="One site")
    def get(self, request, site_id):
        return Response(SiteSerializer(self.site).data)

    @extend_schema(
        request=SiteUpdateSerializer,
        responses={200: SiteSerializer, **error_responses(400, 401, 404, 409)},
        summary="Rename a site (its address changes at once)",
    )
    def patch(self, request, site_id):
        serializer = SiteUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        site = sites.site_rename(owner_id=request.user.id, site_id=site_id, **serializer.validated_data)
        return Response(SiteSerializer(site).data)

    @extend_schema(
        responses={204: None, **error_responses(401, 404)}, summary="Delete a site and its deployments"
    )
    def delete(self, request, site_id):
        sites.site_delete(owner_id=request.user.id, site_id=site_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeploymentListView(OwnedSiteMixin, GenericAPIView):
    """A deployment is a frozen copy of one project revision; publishing makes it live at once."""

    serializer_class = PublishSerializer
    ordering_fields = ("created_at", "revision")
    ordering = "-created_at"

    @extend_schema(
        responses={200: DeploymentSerializer(many=True), **error_responses(400, 401, 404)},
        summary="The site's deployments, newest first",
    )
    def get(self, request, site_id):
        page = self.paginate_queryset(self.filter_queryset(self.site.deployments.all()))
        return self.get_paginated_response(
            DeploymentSerializer(page, many=True, context={"site": self.site}).data
        )

    @extend_schema(
        request=PublishSerializer,
        responses={
            201: DeploymentSerializer,
            200: OpenApiResponse(
                DeploymentSerializer, description="This revision was published before; it is live again."
            ),
            **error_responses(400, 401, 404, 409, 422, 503),
        },
        summary="Publish a revision of the project as an immutable deployment and make it live",
    )
    def post(self, request, site_id):
        serializer = PublishSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        published = publishing.deployment_publish(
            owner_id=request.user.id, site_id=site_id, **serializer.validated_data
        )
        site = sites.site_get(owner_id=request.user.id, site_id=site_id)
        body = DeploymentSerializer(published.deployment, context={"site": site}).data
        return Response(body, status=status.HTTP_201_CREATED if published.created else status.HTTP_200_OK)


class DeploymentDetailView(OwnedSiteView):
    @extend_schema(
        responses={200: DeploymentDetailSerializer, **error_responses(401, 404)},
        summary="One deployment of the site, with every file it serves",
    )
    def get(self, request, site_id, deployment_id):
        deployment = sites.deployment_with_files(
            owner_id=request.user.id, site_id=site_id, deployment_id=deployment_id
        )
        return Response(DeploymentDetailSerializer(deployment, context={"site": self.site}).data)


class SiteRollbackView(OwnedSiteView):
    @extend_schema(
        request=RollbackSerializer,
        responses={200: SiteSerializer, **error_responses(400, 401, 404, 409)},
        summary="Make an earlier deployment of the site the live one",
    )
    def post(self, request, site_id):
        serializer = RollbackSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        site = sites.site_rollback(
            owner_id=request.user.id, site_id=site_id, deployment_id=serializer.validated_data["deployment"]
        )
        return Response(SiteSerializer(site).data)


class SiteUnpublishView(OwnedSiteView):
    @extend_schema(
        request=None,
        responses={200: SiteSerializer, **error_responses(401, 404)},
        summary="Stop serving the site",
    )
    def post(self, request, site_id):
        return Response(SiteSerializer(sites.site_unpublish(owner_id=request.user.id, site_id=site_id)).data)


class SiteRepublishView(OwnedSiteView):
    @extend_schema(
        request=None,
        responses={200: SiteSerializer, **error_responses(401, 404, 409)},
        summary="Serve the site again, with the deployment it had when unpublished",
    )
    def post(self, request, site_id):
        return Response(SiteSerializer(sites.site_republish(owner_id=request.user.id, site_id=site_id)).data)


class DomainListView(OwnedSiteMixin, GenericAPIView):
    """A custom domain is served once its TXT record proves you control it."""

    serializer_class = DomainCreateSerializer
    ordering_fields = ("hostname", "created_at")
    ordering = "hostname"

    @extend_schema(
        responses={200: DomainSerializer(many=True), **error_responses(400, 401, 404)},
        summary="The site's custom domains",
    )
    def get(self, request, site_id):
        queryset = domains.domains_of_site(site=self.site)
        page = self.paginate_queryset(self.filter_queryset(queryset))
        return self.get_paginated_response(DomainSerializer(page, many=True).data)

    @extend_schema(
        request=DomainCreateSerializer,
        responses={201: DomainSerializer, **error_responses(400, 401, 404, 409)},
        summary="Add a custom domain; the answer lists the DNS records that prove it is yours",
    )
    def post(self, request, site_id):
        serializer = DomainCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        domain = domains.domain_add(owner_id=request.user.id, site_id=site_id, **serializer.validated_data)
        return Response(DomainSerializer(domain).data, status=status.HTTP_201_CREATED)


class DomainDetailView(OwnedSiteView):
    @extend_schema(
        responses={200: DomainSerializer, **error_responses(401, 404)}, summary="One custom domain"
    )
    def get(self, request, site_id, domain_id):
        domain = domains.domain_get(owner_id=request.user.id, site_id=site_id, domain_id=domain_id)
        return Response(DomainSerializer(domain).data)

    @extend_schema(
        responses={204: None, **error_responses(401, 404)},
        summary="Remove a custom domain (it stops at once)",
    )
    def delete(self, request, site_id, domain_id):
        domains.domain_remove(owner_id=request.user.id, site_id=site_id, domain_id=domain_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DomainVerifyView(OwnedSiteView):
    @extend_schema(
        request=None,
        responses={200: DomainSerializer, **error_responses(401, 404, 409, 422, 503)},
        summary="Check the domain's TXT record in DNS; once found, the domain is served",
    )
    def post(self, request, site_id, domain_id):
        domain = domains.domain_verify(owner_id=request.user.id, site_id=site_id, domain_id=domain_id)
        return Response(DomainSerializer(domain).data)
