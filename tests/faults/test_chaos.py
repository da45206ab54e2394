"""Byte-level chaos over real sockets, under asyncio and trio: deadlines, odd bodies, size limits,
and every exception class httpx and aiohttp define, injected into the transport."""

from __future__ import annotations

import gc
import time
import tracemalloc
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import httpx
import pytest

from atom_stripe import APIResponseError, APITimeoutError, AsyncStripeClient, StripeError, StripeValueError
from atom_stripe._hooks import CallRecord

from ..faultrig import FaultRig


def client(rig: FaultRig, **options: Any) -> AsyncStripeClient:
    return AsyncStripeClient("sk_test_chaos", base_url=rig.url, **options)


# -- 1. timeout is the deadline of one whole attempt ----------------------------------------


@pytest.mark.parametrize("fault", ["drip", "processing"])
async def test_timeout_bounds_the_whole_attempt(rig: FaultRig, fault: str) -> None:
    rig.script(fault, fault)
    async with client(rig, timeout=1.5, max_retries=1) as stripe:
        started = time.monotonic()
        with pytest.raises(APITimeoutError):
            await stripe.customers.retrieve("cus_1")
        elapsed = time.monotonic() - started
    assert len(rig.requests) == 2  # a timeout is retried, like before
    assert 2.9 < elapsed < 5.0, elapsed


async def test_total_timeout_caps_a_call_across_retries(rig: FaultRig) -> None:
    rig.script(*["drip"] * 10)
    errors: list[CallRecord] = []
    async with client(rig, timeout=2.0, max_retries=8, total_timeout=3.0, on_error=errors.append) as stripe:
        started = time.monotonic()
        with pytest.raises(APITimeoutError):
            await stripe.customers.create(email="a@example.com")
        elapsed = time.monotonic() - started
        assert stripe.stats().errors == 1
    # 2 s for the first attempt, a (test-skipped) backoff wait, then the 1 s left for the second.
    assert 2.9 < elapsed < 3.6, elapsed
    assert len(rig.requests) == 2
    assert len(set(rig.keys())) == 1  # one idempotency key throughout
    assert len(errors) == 1


async def test_total_timeout_does_not_start_a_wait_it_cannot_finish(rig: FaultRig) -> None:
    rig.script("500", "ok")
    async with client(rig, max_retries=2, total_timeout=0.2) as stripe:
        with pytest.raises(StripeError, match="Internal error"):
            await stripe.customers.retrieve("cus_1")  # the backoff (>= 0.25 s) would end past the cap
    assert len(rig.requests) == 1


def test_total_timeout_is_checked() -> None:
    bad: Any
    for bad in (0, -1, float("inf"), "5", True):
        with pytest.raises(StripeValueError):
            AsyncStripeClient("sk_test_x", total_timeout=bad)
    stripe = AsyncStripeClient("sk_test_x", total_timeout=30)
    assert stripe.total_timeout == 30.0
    assert stripe.with_options(total_timeout=None).total_timeout is None
    assert stripe.with_options(max_retries=1).total_timeout == 30.0


# -- 2. nothing but StripeError leaves a call -------------------------------------------------


async def test_a_body_labelled_gzip_that_is_not_is_a_retried_response_error(rig: FaultRig) -> None:
    rig.script("bad_gzip", "bad_gzip", "bad_gzip")
    errors: list[CallRecord] = []
    async with client(rig, max_retries=2, on_error=errors.append) as stripe:
        with pytest.raises(APIResponseError, match="gzip"):
            await stripe.customers.retrieve("cus_1")
        stats = stripe.stats()
    assert len(rig.requests) == 3
    assert (stats.calls, stats.errors, stats.retries) == (1, 1, 2)
    assert [e.error for e in errors] == ["APIResponseError"]


async def test_a_body_labelled_gzip_that_is_not_then_a_good_one(rig: FaultRig) -> None:
    rig.script("bad_gzip", "ok")
    async with client(rig, max_retries=2) as stripe:
        assert (await stripe.customers.retrieve("cus_1")).id == "cus_1"


def exception_classes(*modules: Any) -> list[type[BaseException]]:
    """Every exception class the modules define or export."""
    found = {
        obj
        for module in modules
        for name in dir(module)
        for obj in [getattr(module, name)]
        if isinstance(obj, type) and issubclass(obj, BaseException) and obj.__module__.split(".")[0] != "builtins"
    }
    return sorted(found, key=lambda c: f"{c.__module__}.{c.__qualname__}")


INJECTED = exception_classes(httpx, aiohttp, aiohttp.client_exceptions, aiohttp.http_exceptions)


def instance(cls: type[BaseException]) -> BaseException:
    """An instance however the class wants to be made (some need fields; some get none)."""
    try:
        return cls("injected")
    except Exception:
        exc = cls.__new__(cls)
        exc.args = ("injected",)
        return exc


def test_the_injected_classes_cover_both_libraries() -> None:
    names = {c.__name__ for c in INJECTED}
    assert {"DecodingError", "ReadTimeout", "ProtocolError", "InvalidURL", "StreamConsumed"} <= names
    assert {"ClientPayloadError", "ServerDisconnectedError", "ContentEncodingError", "BadHttpMessage"} <= names
    assert len(INJECTED) > 60


@pytest.mark.parametrize("where", ["connect", "body"])
async def test_every_httpx_and_aiohttp_exception_becomes_a_stripe_error(
    rig: FaultRig, monkeypatch: pytest.MonkeyPatch, anyio_backend: str, where: str
) -> None:
    current: list[BaseException] = []

    async def raising(*args: Any, **kwargs: Any) -> Any:
        raise current[0]

    def raising_iter(*args: Any, **kwargs: Any) -> AsyncIterator[bytes]:
        async def gen() -> AsyncIterator[bytes]:
            raise current[0]
            yield b""

        return gen()

    if anyio_backend == "asyncio":  # aiohttp carries the requests
        if where == "connect":
            monkeypatch.setattr(aiohttp.ClientSession, "_request", raising)
        else:
            monkeypatch.setattr(aiohttp.ClientResponse, "read", raising)
    elif where == "connect":  # httpx's own transport does
        monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", raising)
    else:
        monkeypatch.setattr(httpx.Response, "aiter_raw", raising_iter)
    errors: list[CallRecord] = []
    escaped: list[str] = []
    async with client(rig, max_retries=1, on_error=errors.append) as stripe:
        for cls in INJECTED:
            current[:] = [instance(cls)]
            try:
                await stripe.customers.retrieve("cus_1")
            except StripeError:
                pass
            except BaseException as exc:
                escaped.append(f"{cls.__name__} -> {type(exc).__name__}")
        stats = stripe.stats()
    assert escaped == []
    assert len(errors) == len(INJECTED)
    assert stats.calls == stats.errors == len(INJECTED)


# -- 3. a cap on the decoded body, in bounded memory -----------------------------------------


@pytest.mark.parametrize("fault", ["huge", "huge_chunked", "bomb"])
async def test_a_body_past_the_limit_is_refused_in_bounded_memory(rig: FaultRig, fault: str) -> None:
    rig.script(fault, fault)
    limit = 8 * 1024 * 1024
    gc.collect()
    tracemalloc.start()
    try:
        async with client(rig, max_response_size=limit, max_retries=1) as stripe:
            with pytest.raises(APIResponseError, match="max_response_size") as caught:
                await stripe.customers.retrieve("cus_1")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.status_code == 200
    assert len(rig.requests) == 1  # not retried: it would be as large again
    assert peak < 4 * limit, f"peak {peak / 2**20:.0f} MiB"


async def test_the_default_limit_refuses_a_gzip_bomb(rig: FaultRig) -> None:
    rig.script("bomb")
    async with client(rig, max_retries=0) as stripe:
        assert stripe.max_response_size == 64 * 1024 * 1024
        with pytest.raises(APIResponseError, match="max_response_size"):
            await stripe.customers.retrieve("cus_1")


async def test_an_answer_within_the_limit_is_read(rig: FaultRig) -> None:
    async with client(rig, max_response_size=200) as stripe:
        assert (await stripe.customers.retrieve("cus_1")).id == "cus_1"
        with pytest.raises(APIResponseError):
            await stripe.with_options(max_response_size=50).customers.retrieve("cus_1")
