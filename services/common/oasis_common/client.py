"""Calls from one service to another: timeouts, safe retries, request ids and service tokens.

A peer that cannot be reached, times out or answers 5xx becomes `PeerUnavailable`
(a clean 503 for the user); a peer's 4xx is returned to the caller to interpret.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import requests
from django.core.signals import setting_changed
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from oasis_common.conf import oasis_settings
from oasis_common.context import get_request_id
from oasis_common.errors import PeerUnavailable

logger = logging.getLogger("oasis.client")

# Renew a cached service token this many seconds before it expires.
TOKEN_RENEWAL_MARGIN = 30
# Methods that may be retried blindly; a POST is retried only with an Idempotency-Key.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


@dataclass
class _CachedToken:
    value: str
    expires_at: float


_tokens: dict[str, _CachedToken] = {}
_tokens_lock = threading.Lock()


def reset_token_cache() -> None:
    with _tokens_lock:
        _tokens.clear()


def _forget_tokens_when_settings_change(*, setting, **kwargs) -> None:
    # Tokens were obtained with the client id, secret and auth URL of settings.OASIS.
    if setting == "OASIS":
        reset_token_cache()


setting_changed.connect(_forget_tokens_when_settings_change)


def _session(retries: int, methods: frozenset[str]) -> requests.Session:
    session = requests.Session()
    retry = Retry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        backoff_factor=oasis_settings.HTTP_RETRY_BACKOFF,
        status_forcelist=(502, 503, 504),
        allowed_methods=methods,
        raise_on_status=False,
        # A peer's Retry-After could hold the user's request for as long as it likes, and
        # would turn its 429s into silent retries; the backoff above is the only wait.
        respect_retry_after_header=False,
    )
    # Sized for a worker's threads all calling one peer at once.
    adapter = HTTPAdapter(max_retries=retry, pool_maxsize=oasis_settings.HTTP_POOL_SIZE)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class ServiceClient:
    """A client for one peer service's internal API."""

    def __init__(self, service: str, base_url: str) -> None:
        self.service = service
        self.base_url = base_url.rstrip("/")
        retries = oasis_settings.HTTP_RETRIES
        self._retrying = _session(retries, SAFE_METHODS | {"POST", "PATCH"})
        # No retries at all; the method list only has to be non-empty (empty means "any" to urllib3).
        self._single = _session(0, SAFE_METHODS)

    @property
    def timeout(self) -> tuple[float, float]:
        return (oasis_settings.HTTP_CONNECT_TIMEOUT, oasis_settings.HTTP_READ_TIMEOUT)

    def request(
        self,
        method: str,
        path: str,
        *,
        json=None,
        params=None,
        idempotency_key: str | None = None,
        authenticate: bool = True,
        retry: bool | None = None,
        timeout: tuple[float, float] | None = None,
    ) -> requests.Response:
        """Send a request; `retry` overrides whether a failed attempt may be repeated."""
        method = method.upper()
        headers = {"Accept": "application/json"}
        if request_id := get_request_id():
            headers["X-Request-ID"] = request_id
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        if authenticate:
            headers["Authorization"] = f"Bearer {service_token(self.service)}"
        if retry is None:
            retry = method in SAFE_METHODS or bool(idempotency_key)
        session = self._retrying if retry else self._single
        url = f"{self.base_url}{path}"
        try:
            response = session.request(
                method,
                url,
                json=json,
                params=params,
                headers=headers,
                timeout=timeout or self.timeout,
            )
        except requests.RequestException as exc:
            logger.warning("%s %s failed: %s", method, url, exc.__class__.__name__)
            raise PeerUnavailable(details={"service": self.service}) from exc
        if response.status_code >= 500:
            logger.warning("%s %s answered %s", method, url, response.status_code)
            raise PeerUnavailable(details={"service": self.service})
        if response.status_code == 401 and authenticate:
            # Our cached token may have been minted with a key that was since retired.
            forget_service_token(self.service)
        return response

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return self.request("POST", path, **kwargs)


def forget_service_token(audience: str) -> None:
    with _tokens_lock:
        _tokens.pop(audience, None)


def service_token(audience: str) -> str:
    """A service token for calling `audience`, obtained from auth and cached until near expiry."""
    now = time.time()
    cached = _tokens.get(audience)
    if cached and cached.expires_at - TOKEN_RENEWAL_MARGIN > now:
        return cached.value
    with _tokens_lock:
        cached = _tokens.get(audience)
        if cached and cached.expires_at - TOKEN_RENEWAL_MARGIN > now:
            return cached.value
        token, expires_in = _fetch_service_token(audience)
        _tokens[audience] = _CachedToken(token, now + expires_in)
        return token


def _fetch_service_token(audience: str) -> tuple[str, int]:
    auth = ServiceClient("auth", oasis_settings.AUTH_URL)
    response = auth.request(
        "POST",
        "/internal/v1/service-token",
        json={
            "client_id": oasis_settings.SERVICE_CLIENT_ID,
            "client_secret": oasis_settings.SERVICE_CLIENT_SECRET,
            "audience": audience,
        },
        authenticate=False,
        # Issuing a token changes nothing, so it is as safe to retry as a read.
        retry=True,
    )
    if response.status_code != 200:
        logger.error("auth refused a service token for %s: %s", audience, response.status_code)
        raise PeerUnavailable(details={"service": "auth"})
    try:
        body = response.json()
        return str(body["access"]), int(body["expires_in"])
    except (ValueError, KeyError, TypeError) as exc:
        # A proxy's HTML page or a half-written answer: auth is not working, which is a 503, not a 500.
        logger.error("auth answered a service token request with something else: %s", exc.__class__.__name__)
        raise PeerUnavailable(details={"service": "auth"}) from exc
