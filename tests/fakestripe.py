"""A generic stand-in for Stripe's API over respx: any path answers with Stripe's own example object.

Used where a test needs "Stripe" to answer whatever is asked (the docs samples, the FastAPI
router) rather than one scripted route. It records every request it answered.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

import httpx
import respx

from atom_stripe._endpoint import Endpoint, find_endpoint

from .helpers import FIXTURES
from .stripe_oracle import example

#: first path segment -> fixture object type
RESOURCES = {
    "customers": "customer",
    "payment_intents": "payment_intent",
    "subscriptions": "subscription",
    "products": "product",
    "prices": "price",
    "refunds": "refund",
    "charges": "charge",
    "events": "event",
    "balance_transactions": "balance_transaction",
}
DELETABLE = {"customers", "products"}


class FakeStripe:
    def __init__(self) -> None:
        self.fixtures: dict[str, Any] = json.loads(FIXTURES.read_text())["resources"]
        self.requests: list[httpx.Request] = []
        #: path -> the answer (or exception) to give instead of the example object
        self.overrides: dict[str, httpx.Response | Exception] = {}

    def obj(self, kind: str, **changes: Any) -> dict[str, Any]:
        return {**self.fixtures[kind], **changes}

    def answer(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        override = self.overrides.get(path)
        if isinstance(override, Exception):
            raise override
        if override is not None:
            return override
        form = dict(parse_qsl(request.content.decode() if request.method == "POST" else request.url.query.decode()))
        headers = {"Request-Id": f"req_fake{len(self.requests)}"}
        if "chargeDeclined" in form.get("payment_method", ""):
            return httpx.Response(
                402,
                headers=headers,
                json={
                    "error": {
                        "type": "card_error",
                        "code": "card_declined",
                        "decline_code": "generic_decline",
                        "message": "Your card was declined.",
                        "param": "payment_method",
                    }
                },
            )
        if path.endswith("/doesnotexist") or "cus_doesnotexist" in path:
            return httpx.Response(
                404,
                headers=headers,
                json={
                    "error": {
                        "type": "invalid_request_error",
                        "code": "resource_missing",
                        "param": "id",
                        "message": "No such customer: 'cus_doesnotexist'",
                    }
                },
            )
        if path == "/v1/balance":
            return httpx.Response(200, headers=headers, json=self.fixtures["balance"])
        if path == "/v1/account":
            return httpx.Response(200, headers=headers, json=self.fixtures["account"])
        if path == "/oauth/token":
            return httpx.Response(
                200,
                headers=headers,
                json={
                    "access_token": "sk_test_connected_fake",
                    "refresh_token": "rt_fake",
                    "token_type": "bearer",
                    "scope": "read_write",
                    "livemode": False,
                    "stripe_user_id": "acct_1Nv0FGQ9RKHgCVdK",
                    "stripe_publishable_key": "pk_test_fake",
                },
            )
        if path == "/oauth/deauthorize":
            return httpx.Response(200, headers=headers, json={"stripe_user_id": form.get("stripe_user_id")})
        match = re.fullmatch(r"/v1/(\w+)(?:/([^/]+))?(?:/(\w+))?", path)
        legacy = match is not None and match.group(1) in RESOURCES
        if legacy and match is not None and match.group(3) not in (None, "cancel", "capture", "confirm", "resume"):
            legacy = False  # a nested collection such as /v1/customers/cus_1/payment_methods
        if not legacy:
            endpoint = route(request)
            if endpoint is None:
                return httpx.Response(
                    404,
                    headers=headers,
                    json={"error": {"type": "invalid_request_error", "message": f"Unknown path {path}"}},
                )
            if endpoint.kind == "bytes":
                return httpx.Response(200, headers=headers, content=b"%PDF-1.4 example")
            return httpx.Response(200, headers=headers, json=example(self.fixtures, endpoint))
        assert match is not None
        collection, oid, action = match.groups()
        kind = RESOURCES[collection]
        if oid == "search":
            body: dict[str, Any] = {
                "object": "search_result",
                "url": path,
                "has_more": False,
                "next_page": None,
                "data": [self.obj(kind)],
            }
            return httpx.Response(200, headers=headers, json=body)
        if oid is None and request.method == "GET":
            body = {"object": "list", "url": path, "has_more": False, "data": [self.obj(kind), self.obj(kind)]}
            return httpx.Response(200, headers=headers, json=body)
        changes: dict[str, Any] = {}
        if oid is not None:
            changes["id"] = oid
        if request.method == "DELETE":
            if collection in DELETABLE:
                return httpx.Response(200, headers=headers, json={"id": oid, "object": kind, "deleted": True})
            changes["status"] = "canceled"
        for key in ("email", "name", "description", "currency", "amount", "status"):
            if key in form:
                changes[key] = int(form[key]) if key == "amount" else form[key]
        metadata = {k[9:-1]: v for k, v in form.items() if k.startswith("metadata[")}
        if metadata:
            changes["metadata"] = metadata
        if action == "cancel":
            changes["status"] = "canceled"
        return httpx.Response(200, headers=headers, json=self.obj(kind, **changes))


def route(request: httpx.Request) -> Endpoint | None:
    """The table's endpoint for a request."""
    found = find_endpoint(request.method, request.url.path)
    return None if found is None else found[1]


def mount(router: respx.MockRouter, fake: FakeStripe) -> None:
    """Answer every request to the router's base URL with the fake."""
    router.route().mock(side_effect=fake.answer)
