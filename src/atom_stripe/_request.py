"""One logical call: settings and parameters -> httpx request -> retry loop -> parsed model."""

from __future__ import annotations

import logging
import platform
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar, cast

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from . import _retry
from ._encoding import urlencode
from ._errors import (
    APIConnectionError,
    APIResponseError,
    APITimeoutError,
    StripeError,
    StripeValueError,
    make_status_error,
)
from ._version import __version__

logger = logging.getLogger("atom_stripe")

M = TypeVar("M")

MAX_IDEMPOTENCY_KEY = 255
USER_AGENT = f"atom_stripe/{__version__} python/{platform.python_version()} httpx/{httpx.__version__}"


@dataclass(frozen=True)
class Settings:
    """Everything a call needs to know about its client. Immutable: ``replace`` to change."""

    api_key: str = field(repr=False)
    base_url: str
    api_version: str
    stripe_account: str | None
    max_retries: int
    timeout: httpx.Timeout
    headers: Mapping[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        headers = {
            "Authorization": f"Bearer {self.api_key}",
            "Stripe-Version": self.api_version,
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
        }
        if self.stripe_account:
            headers["Stripe-Account"] = self.stripe_account
        object.__setattr__(self, "headers", headers)

    def evolve(self, **changes: Any) -> Settings:
        return replace(self, **changes)


def check_idempotency_key(key: str) -> str:
    if not isinstance(key, str) or not key or len(key) > MAX_IDEMPOTENCY_KEY:
        raise StripeValueError("idempotency_key", f"must be a string of 1 to {MAX_IDEMPOTENCY_KEY} characters")
    if not key.isprintable() or not key.isascii():
        raise StripeValueError("idempotency_key", "must be printable ASCII")
    return key


@dataclass
class Call:
    """One logical call, as the retry loop and the hooks see it."""

    method: str
    path: str
    template: str
    idempotency_key: str | None
    stripe_account: str | None
    attempt: int = 0
    status: int | None = None
    request_id: str | None = None


class Requester:
    """Sends calls over a shared ``httpx.AsyncClient`` with one client's settings."""

    def __init__(self, http: httpx.AsyncClient, settings: Settings) -> None:
        self.http = http
        self.settings = settings

    async def request(
        self,
        method: str,
        path: str,
        cast_to: type[M] | TypeAdapter[M],
        *,
        pairs: Sequence[tuple[str, str]] = (),
        template: str | None = None,
        idempotency_key: str | None = None,
        stripe_account: str | None = None,
    ) -> M:
        """Send one call, retrying what is safe to retry, and parse the answer into ``cast_to``."""
        response = await self.send(
            method,
            path,
            pairs=pairs,
            template=template,
            idempotency_key=idempotency_key,
            stripe_account=stripe_account,
        )
        try:
            if isinstance(cast_to, TypeAdapter):
                return cast_to.validate_json(response.content)
            model = cast("type[BaseModel]", cast_to)
            return cast(M, model.model_validate_json(response.content))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
                for e in exc.errors(include_input=False, include_url=False)[:3]
            )
            raise APIResponseError(
                f"The answer to {method} {template or path} does not fit {_name(cast_to)}: {problems}",
                response=response,
            ) from None

    async def send(
        self,
        method: str,
        path: str,
        *,
        pairs: Sequence[tuple[str, str]] = (),
        template: str | None = None,
        idempotency_key: str | None = None,
        stripe_account: str | None = None,
    ) -> httpx.Response:
        """Send one call and return its successful answer, body read; raise for the rest."""
        if self.http.is_closed:
            raise StripeError("This client has been closed.")
        settings = self.settings
        headers = dict(settings.headers)
        if method == "POST":
            key = check_idempotency_key(idempotency_key) if idempotency_key is not None else str(uuid.uuid4())
            headers["Idempotency-Key"] = key
            idempotency_key = key
        elif idempotency_key is not None:
            headers["Idempotency-Key"] = check_idempotency_key(idempotency_key)
        if stripe_account is not None:
            headers["Stripe-Account"] = stripe_account
        url = settings.base_url + path
        content: bytes | None = None
        if pairs:
            encoded = urlencode(pairs)
            if method == "POST":
                content = encoded.encode()
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            else:
                url = f"{url}?{encoded}"
        elif method == "POST":
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        request = self.http.build_request(method, url, headers=headers, content=content, timeout=settings.timeout)
        call = Call(
            method=method,
            path=path,
            template=template or path,
            idempotency_key=idempotency_key,
            stripe_account=stripe_account or settings.stripe_account,
        )
        return await self._retry_loop(request, call)

    async def _retry_loop(self, request: httpx.Request, call: Call) -> httpx.Response:
        max_retries = self.settings.max_retries
        debug = logger.isEnabledFor(logging.DEBUG)
        while True:
            call.attempt += 1
            retries_left = call.attempt <= max_retries
            started = time.perf_counter()
            try:
                response = await self.http.send(request)
            except httpx.TimeoutException as exc:
                self._log_attempt(call, started, f"timeout ({type(exc).__name__})", debug)
                if retries_left:
                    await _retry.sleep(_retry.retry_delay(call.attempt))
                    continue
                raise APITimeoutError(
                    f"{call.method} {call.template} timed out after {call.attempt} attempt(s).", request=request
                ) from exc
            except httpx.TransportError as exc:
                self._log_attempt(call, started, f"connection error ({type(exc).__name__})", debug)
                if retries_left:
                    await _retry.sleep(_retry.retry_delay(call.attempt))
                    continue
                raise APIConnectionError(
                    f"{call.method} {call.template} failed after {call.attempt} attempt(s): "
                    f"{type(exc).__name__}: {exc}",
                    request=request,
                ) from exc
            call.status = response.status_code
            call.request_id = response.headers.get("request-id")
            self._log_attempt(call, started, str(call.status), debug)
            if call.status < 300:
                return response
            if retries_left and _retry.should_retry(call.status, response.headers):
                await _retry.sleep(_retry.retry_delay(call.attempt, response.headers))
                continue
            raise make_status_error(response)

    @staticmethod
    def _log_attempt(call: Call, started: float, outcome: str, debug: bool) -> None:
        if not debug:
            return
        elapsed_ms = (time.perf_counter() - started) * 1000
        logger.debug(
            "%s %s -> %s request_id=%s attempt=%d %.1fms",
            call.method,
            call.template,
            outcome,
            call.request_id,
            call.attempt,
            elapsed_ms,
            extra={
                "stripe_method": call.method,
                "stripe_path": call.template,
                "stripe_outcome": outcome,
                "stripe_status": call.status,
                "stripe_request_id": call.request_id,
                "stripe_attempt": call.attempt,
                "stripe_duration_ms": round(elapsed_ms, 3),
            },
        )


def _name(cast_to: Any) -> str:
    if isinstance(cast_to, TypeAdapter):
        return "the expected type"
    return str(getattr(cast_to, "__name__", cast_to))
