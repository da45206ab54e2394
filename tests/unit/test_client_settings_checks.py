"""Settings refused when a client is made (or copied), never at the first call: live keys over
plain HTTP, header values with control characters, an ``http_client`` of the wrong type; and
no error a call raises carries the key, however deep in its chain."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx

from atom_stripe import APIConnectionError, AsyncStripeClient, StripeValueError

from ..helpers import KEY

LIVE = "sk_live_51HzSecretLiveKey0000"


def test_with_options_checks_a_live_key_against_the_files_host_too() -> None:
    client = AsyncStripeClient(KEY, files_base_url="http://files.example.com")
    with pytest.raises(StripeValueError) as caught:
        client.with_options(api_key=LIVE)
    assert caught.value.param == "files_base_url"
    assert LIVE not in str(caught.value)


def test_with_options_checks_a_live_key_against_the_api_host() -> None:
    client = AsyncStripeClient(KEY, base_url="http://api.example.com")
    with pytest.raises(StripeValueError) as caught:
        client.with_options(api_key=LIVE)
    assert caught.value.param == "base_url"


async def test_a_live_key_never_goes_to_a_plain_http_files_host() -> None:
    """The path the probe found: a copy with a live key uploading a file over http."""
    with respx.mock(using="httpx", assert_all_called=False) as mock:
        files = mock.route(host="files.example.com").respond(200, json={"id": "file_1", "object": "file"})
        client = AsyncStripeClient(KEY, files_base_url="http://files.example.com")
        try:
            live = client.with_options(api_key=LIVE)
            await live.files.create(file=b"x", purpose="dispute_evidence")
        except StripeValueError as exc:
            assert exc.param == "files_base_url"
        finally:
            await client.aclose()
    assert not files.called


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"base_url": "http://api.example.com"}, "base_url"),
        ({"files_base_url": "http://files.example.com"}, "files_base_url"),
        ({"base_url": "https://api.example.com", "files_base_url": "http://files.example.com"}, "files_base_url"),
    ],
)
def test_the_constructor_names_the_url_at_fault(kwargs: dict[str, Any], param: str) -> None:
    with pytest.raises(StripeValueError) as caught:
        AsyncStripeClient(LIVE, **kwargs)
    assert caught.value.param == param


def test_a_live_key_over_http_to_loopback_is_still_allowed() -> None:
    client = AsyncStripeClient(KEY, base_url="http://127.0.0.1:1", files_base_url="http://localhost:2")
    assert client.with_options(api_key=LIVE).files_base_url == "http://localhost:2"


BAD_KEYS = ["sk_test_abc\ndef", "sk_test_abc\rdef", "sk_test_a\x00b", "sk_test_a\tb", "sk_test_ab\x7f", "sk_test_é"]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_control_characters_in_the_key_are_refused_without_echoing_it(key: str) -> None:
    makers: list[Callable[[], object]] = [
        lambda: AsyncStripeClient(key),
        lambda: AsyncStripeClient(KEY).with_options(api_key=key),
    ]
    for make in makers:
        with pytest.raises(StripeValueError) as caught:
            make()
        assert caught.value.param == "api_key"
        shown = f"{caught.value!s} {caught.value!r} {''.join(traceback.format_exception(caught.value))}"
        assert key not in shown and "sk_test_a" not in shown


@pytest.mark.parametrize("version", ["2024-04-10\r\nX-Injected: 1", "2024-04-10\x00", "", "2024-04-10\u2028"])
def test_control_characters_in_the_api_version_are_refused(version: str) -> None:
    with pytest.raises(StripeValueError) as caught:
        AsyncStripeClient(KEY, api_version=version)
    assert caught.value.param == "api_version"
    with pytest.raises(StripeValueError) as caught:
        AsyncStripeClient(KEY).with_options(api_version=version)
    assert caught.value.param == "api_version"


@pytest.mark.parametrize("account", ["acct_1\r\nX: y", "acct_\x00", "acct_é"])
def test_control_characters_in_the_account_are_refused(account: str) -> None:
    makers: list[Callable[[], object]] = [
        lambda: AsyncStripeClient(KEY, stripe_account=account),
        lambda: AsyncStripeClient(KEY).with_options(stripe_account=account),
        lambda: AsyncStripeClient(KEY).for_account(account),
    ]
    for make in makers:
        with pytest.raises(StripeValueError) as caught:
            make()
        assert caught.value.param == "stripe_account"


async def test_control_characters_in_per_call_header_values_are_refused_before_sending(
    api: respx.MockRouter,
) -> None:
    route = api.post("/v1/customers").respond(200, json={"id": "cus_1", "object": "customer"})
    async with AsyncStripeClient(KEY) as client:
        with pytest.raises(StripeValueError) as caught:
            await client.customers.create(idempotency_key="key\r\nX: y")
        assert caught.value.param == "idempotency_key"
        with pytest.raises(StripeValueError) as caught:
            await client.customers.create(stripe_account="acct_1\n")
        assert caught.value.param == "stripe_account"
    assert not route.called


class QuotingTransport(httpx.AsyncBaseTransport):
    """A transport that fails the way an HTTP library refusing a header does: quoting it."""

    def __init__(self, make: Any) -> None:
        self.make = make
        self.calls = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        header = request.headers["authorization"]
        try:
            raise ValueError(f"Illegal header value {header.encode()!r}")
        except ValueError as inner:
            raise self.make(f"cannot send {header!r}") from inner


@pytest.mark.parametrize(
    "make",
    [
        lambda text: httpx.LocalProtocolError(text),
        lambda text: httpx.ConnectError(text),
        lambda text: RuntimeError(text),
    ],
    ids=["protocol", "connect", "other"],
)
async def test_no_error_a_call_raises_carries_the_key(make: Any) -> None:
    transport = QuotingTransport(make)
    async with httpx.AsyncClient(transport=transport) as http:
        client = AsyncStripeClient(KEY, http_client=http, max_retries=1)
        with pytest.raises(APIConnectionError) as caught:
            await client.customers.retrieve("cus_1")
    assert transport.calls == 2
    error = caught.value
    text = "".join(traceback.format_exception(error))
    assert KEY not in text and KEY not in repr(error) and KEY not in str(error)
    assert error.__cause__ is None and error.__context__ is None


async def test_an_error_without_the_key_is_still_chained() -> None:
    class Refusing(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectError("connection refused")

    async with httpx.AsyncClient(transport=Refusing()) as http:
        client = AsyncStripeClient(KEY, http_client=http, max_retries=0)
        with pytest.raises(APIConnectionError) as caught:
            await client.customers.retrieve("cus_1")
    assert isinstance(caught.value.__cause__, httpx.ConnectError)


@pytest.mark.parametrize(
    ("http_client", "hint"),
    [
        (httpx.Client(), "block the event loop"),
        (object(), "not object"),
        ("http://proxy", "not str"),
    ],
    ids=["sync-client", "object", "str"],
)
def test_an_http_client_of_the_wrong_type_is_refused_at_construction(http_client: Any, hint: str) -> None:
    with pytest.raises(StripeValueError) as caught:
        AsyncStripeClient(KEY, http_client=http_client)
    assert caught.value.param == "http_client" and hint in str(caught.value)
