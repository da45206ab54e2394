"""AsyncStripeClient: configuration, namespaces, ``with_options`` and lifecycle."""

from __future__ import annotations

import os
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
from typing_extensions import Self, Unpack

from ._constants import DEFAULT_API_VERSION as DEFAULT_API_VERSION  # (re-exported: oauth, testing, __init__)
from ._constants import DEFAULT_BASE_URL, DEFAULT_FILES_BASE_URL, DEFAULT_MAX_RESPONSE_SIZE
from ._constants import DEFAULT_MAX_RETRIES as DEFAULT_MAX_RETRIES
from ._constants import DEFAULT_TIMEOUT as DEFAULT_TIMEOUT
from ._errors import StripeValueError
from ._generated.namespaces import Namespaces
from ._hooks import Hook, HookName, Hooks, HookSet, StatsSnapshot
from ._request import Requester, Settings
from ._throttle import RateLimiter, Throttle
from ._v2 import check_context, v2_settings
from ._validation import (
    check_account,
    check_api_version,
    check_key,
    check_max_response_size,
    check_retries,
    check_timeout,
    check_total_timeout,
)
from .models._base import StripeObject as _StripeObject  # noqa: F401  (pydantic's model machinery: every response and event is parsed into a model)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ._health import HealthStatus
    from ._meter_stream import MeterEventStreamWriter, WriterOptions
    from ._thin_events import EventNotification
    from .models._base import StripeObject

M = TypeVar("M")

_UNSET: Any = object()


class AsyncStripeClient(Namespaces):
    """An async client for Stripe's REST API.

    ``api_key`` falls back to the ``STRIPE_API_KEY`` environment variable. Use it as
    ``async with AsyncStripeClient() as stripe: ...`` or call :meth:`aclose` when done.
    A caller's ``http_client`` is used as given and never closed by this client.
    ``timeout`` is the deadline of one attempt (connect, headers and the whole body);
    ``total_timeout`` caps one call, every attempt and wait included (default: no cap, so
    the worst case is ``(max_retries + 1) * timeout`` plus the waits between attempts).
    ``max_response_size`` refuses a decoded response body larger than that many bytes.
    ``max_requests_per_second`` and ``max_concurrency`` pace this client and its copies
    (off by default); ``rate_limiter`` instead shares one limit with other clients or, with
    ``atom_stripe.contrib.redis.RedisRateLimiter``, other processes (see :mod:`atom_stripe.ratelimit`).
    ``on_request``, ``on_retry``, ``on_response`` and ``on_error`` take hooks (see
    :mod:`atom_stripe._hooks`); :meth:`stats` counts every call.
    ``trust_env`` (default True, as in httpx) sends requests through the proxies the
    environment names (``HTTPS_PROXY``, ``HTTP_PROXY``, ``ALL_PROXY``, except hosts in
    ``NO_PROXY``), read when the client is made; a caller's ``http_client`` keeps its own.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        files_base_url: str | None = None,
        meter_events_base_url: str | None = None,
        api_version: str | None = None,
        stripe_account: str | None = None,
        stripe_context: str | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        total_timeout: float | None = None,
        max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE,
        http_client: httpx.AsyncClient | None = None,
        max_requests_per_second: float | None = None,
        max_concurrency: int | None = None,
        rate_limiter: RateLimiter | None = None,
        on_request: Hooks = None,
        on_retry: Hooks = None,
        on_response: Hooks = None,
        on_error: Hooks = None,
        trust_env: bool = True,
    ) -> None:
        if api_key is None:
            api_key = os.environ.get("STRIPE_API_KEY")
        if api_key is None:
            raise StripeValueError(
                "api_key", "no API key: pass api_key=... or set the STRIPE_API_KEY environment variable"
            )
        base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        files_base_url = (files_base_url or DEFAULT_FILES_BASE_URL).rstrip("/")
        settings = Settings(
            api_key=check_key(api_key, base_url=base_url, files_base_url=files_base_url),
            base_url=base_url,
            files_base_url=files_base_url,
            api_version=check_api_version(DEFAULT_API_VERSION if api_version is None else api_version),
            stripe_account=check_account(stripe_account),
            max_retries=check_retries(max_retries),
            timeout=check_timeout(timeout),
            total_timeout=check_total_timeout(total_timeout),
            max_response_size=check_max_response_size(max_response_size),
            **v2_settings(api_key, meter_events_base_url, stripe_context),
        )
        self._requester = Requester.open(
            settings,
            http_client,
            throttle=Throttle(max_requests_per_second, max_concurrency, rate_limiter),
            hooks=HookSet.of(on_request, on_retry, on_response, on_error),
            trust_env=trust_env,
        )

    # -- configuration --------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self._requester.settings.base_url

    @property
    def files_base_url(self) -> str:
        return self._requester.settings.files_base_url

    @property
    def meter_events_base_url(self) -> str:
        """The host the meter event stream writer sends batches to."""
        return self._requester.settings.meter_events_base_url

    @property
    def stripe_context(self) -> str | None:
        return self._requester.settings.stripe_context

    @property
    def api_version(self) -> str:
        return self._requester.settings.api_version

    @property
    def stripe_account(self) -> str | None:
        return self._requester.settings.stripe_account

    @property
    def max_retries(self) -> int:
        return self._requester.settings.max_retries

    @property
    def timeout(self) -> httpx.Timeout:
        return self._requester.settings.timeout

    @property
    def total_timeout(self) -> float | None:
        return self._requester.settings.total_timeout

    @property
    def max_response_size(self) -> int:
        return self._requester.settings.max_response_size

    @property
    def http_client(self) -> httpx.AsyncClient:
        """The ``httpx.AsyncClient`` (and connection pool) this client sends through."""
        return self._requester.http

    def with_options(
        self,
        *,
        api_key: str | None = None,
        api_version: str | None = None,
        stripe_account: str | None = _UNSET,
        stripe_context: str | None = _UNSET,
        max_retries: int | None = None,
        timeout: float | httpx.Timeout | None = None,
        total_timeout: float | None = _UNSET,
        max_response_size: int | None = None,
    ) -> Self:
        """A copy with some settings changed, sharing this client's connection pool.

        ``stripe_account=None`` clears a connected account set on this client (``stripe_context=None``
        a context), and
        ``total_timeout=None`` the cap on a call's total time.
        """
        settings = self._requester.settings
        changes: dict[str, Any] = {}
        if api_key is not None:
            changes["api_key"] = check_key(api_key, base_url=settings.base_url, files_base_url=settings.files_base_url)
        if api_version is not None:
            changes["api_version"] = check_api_version(api_version)
        if stripe_account is not _UNSET:
            changes["stripe_account"] = check_account(stripe_account)
        if stripe_context is not _UNSET:
            changes["stripe_context"] = check_context(stripe_context)
        if max_retries is not None:
            changes["max_retries"] = check_retries(max_retries)
        if timeout is not None:
            changes["timeout"] = check_timeout(timeout)
        if total_timeout is not _UNSET:
            changes["total_timeout"] = check_total_timeout(total_timeout)
        if max_response_size is not None:
            changes["max_response_size"] = check_max_response_size(max_response_size)
        copy = object.__new__(type(self))  # a subclass keeps its class
        copy._requester = self._requester.evolve(**changes)
        return copy

    def add_hook(self, name: HookName, hook: Hook) -> None:
        """Add an ``on_request``, ``on_retry``, ``on_response`` or ``on_error`` hook (shared with copies)."""
        self._requester.hooks.add(name, hook)

    def stats(self) -> StatsSnapshot:
        """Calls, errors, retries and latency percentiles per endpoint, since this client was made."""
        requester = self._requester
        return requester.stats.snapshot(requester.throttle.waits)

    def for_account(self, stripe_account: str) -> Self:
        """A copy that acts on a connected account (``Stripe-Account`` on every request)."""
        if stripe_account is None:
            raise StripeValueError("stripe_account", "must be an account id such as 'acct_...'")
        return self.with_options(stripe_account=stripe_account)

    # -- lifecycle --------------------------------------------------------------------

    async def aclose(self) -> None:
        """Close the connection pool, unless it is a caller's ``http_client``.

        Copies made by :meth:`with_options` and :meth:`for_account` share the pool and never
        close it: ``async with stripe.for_account(...)`` is safe; the original closes it.
        """
        await self._requester.aclose()

    async def __aenter__(self) -> AsyncStripeClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        settings = self._requester.settings
        account = f", stripe_account={settings.stripe_account!r}" if settings.stripe_account else ""
        return f"AsyncStripeClient(base_url={settings.base_url!r}, api_version={settings.api_version!r}{account})"

    # -- namespaces are inherited from Namespaces (generated): one per stripe-python v1 service,
    # each loaded on first use. ``payments`` is ``payment_intents`` under the name ATOM uses.

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        cast_to: type[M] | None = None,
        idempotency_key: str | None = None,
        stripe_account: str | None = None,
    ) -> M | StripeObject:
        """Call any endpoint through the same pipeline (retries, idempotency key, errors, hooks,
        stats): for what the typed namespaces lack, such as preview endpoints.

        ``/v1/...`` paths send ``params`` form-encoded (query string on GET and DELETE);
        ``/v2/...`` paths send them as a JSON body. The response is parsed into ``cast_to`` (a
        model class) when given, else into a generic :class:`StripeObject` (a list response
        with ``object: "list"`` keeps its items as generic objects in ``.data``).
        """
        from ._escape_hatch import raw_request

        result: M | StripeObject = await raw_request(
            self._requester,
            method,
            path,
            params=params,
            cast_to=cast_to,
            idempotency_key=idempotency_key,
            stripe_account=stripe_account,
        )
        return result

    def parse_event_notification(
        self,
        payload: bytes | str,
        sig_header: str | None,
        secret: str | Sequence[str],
        *,
        tolerance: float | None = 300,
    ) -> EventNotification:
        """Verify an event destination's delivery (as for v1 webhooks) and parse the thin event
        into its notification class (stripe-python's names; ``UnknownEventNotification`` for a
        type this release lacks). Its ``fetch_event()`` and ``fetch_related_object()`` use this client.

        Raises :class:`~atom_stripe.SignatureVerificationError` when the signature or payload is bad.
        """
        from ._thin_events import verify_and_parse

        return verify_and_parse(payload, sig_header, secret, self._requester, tolerance=tolerance)

    def parse_event_notification_without_verification(self, payload: bytes | str) -> EventNotification:
        """Parse a thin event already verified or from a trusted source (a queue, a test), unchecked."""
        from ._thin_events import parse_notification

        return parse_notification(payload, self._requester)

    def meter_event_stream_writer(self, **options: Unpack[WriterOptions]) -> MeterEventStreamWriter:
        """A writer that sends meter events in batches on the high-throughput stream
        (``async with client.meter_event_stream_writer() as w: await w.send(...)``): the same as
        ``client.v2.billing.meter_event_stream_writer()``; see :class:`~atom_stripe.MeterEventStreamWriter`."""
        return self.v2.billing.meter_event_stream_writer(**options)

    async def health(self) -> HealthStatus:
        """Check the API: one cheap read (``GET /v1/balance``). Never raises for API trouble."""
        from ._health import check_health

        return await check_health(self._requester)
