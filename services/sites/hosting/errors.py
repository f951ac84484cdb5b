"""The hosting errors a client can meet, each with its status and stable code."""

from oasis_common.errors import Conflict, NotFound, Unprocessable


class SiteNotFound(NotFound):
    code = "site_not_found"
    message = "No such site."


class DeploymentNotFound(NotFound):
    code = "deployment_not_found"
    message = "No such deployment of this site."


class SlugTaken(Conflict):
    code = "slug_taken"
    message = "This site name is taken."


class SiteLimitReached(Conflict):
    code = "site_limit_reached"
    message = "You have as many sites as you may. Delete one before creating another."


class SiteDisabled(Conflict):
    code = "site_disabled"
    message = "This site was taken down; it cannot be published."


class DeploymentTooLarge(Unprocessable):
    code = "deployment_too_large"
    message = "The revision is too large to publish."


class DomainNotFound(NotFound):
    code = "domain_not_found"
    message = "No such domain on this site."


class DomainTaken(Conflict):
    code = "domain_taken"
    message = "This domain is already in use by a site."


class DomainLimitReached(Conflict):
    code = "domain_limit_reached"
    message = "This site has as many domains as it may. Remove one before adding another."


class DomainNotVerified(Unprocessable):
    code = "domain_not_verified"
    message = "The verification record was not found in DNS yet. DNS changes can take a while to spread."
