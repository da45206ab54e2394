"""A Stripe-shaped loopback server for list calls, serving objects the test builds.

``GET /v1/<collection>`` pages newest first (``created``, then ``id``) with ``limit`` (10 by
default, at most 100), ``starting_after`` and ``ending_before``; filters by ``created[gte|gt|lt|lte]``,
``currency`` and ``type``; subscriptions leave out canceled ones unless ``status=all`` (or a
status is asked for), as Stripe does. ``GET /v1/<collection>/<id>`` retrieves (``prices`` keep
their ``tiers`` for ``expand[]=tiers`` only). Every request is recorded.

    python -m tests.ledger --transactions 10000     # serves synthetic data; prints PORT <n>
"""

from __future__ import annotations

import argparse
import random
import socket
from collections.abc import Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

ERROR = {"type": "invalid_request_error"}


def _stripe_error(status: int, message: str, param: str | None = None) -> JSONResponse:
    return JSONResponse({"error": {**ERROR, "message": message, "param": param}}, status_code=status)


class Ledger:
    """The objects served, by collection (``balance_transactions``, ``subscriptions``, ...)."""

    def __init__(self, collections: Mapping[str, list[dict[str, Any]]]) -> None:
        newest_first = {name: sorted(objs, key=lambda o: (o["created"], o["id"])) for name, objs in collections.items()}
        self.collections = {name: objs[::-1] for name, objs in newest_first.items()}
        self.requests: list[tuple[str, dict[str, list[str]]]] = []

    def select(self, name: str, query: Mapping[str, list[str]]) -> list[dict[str, Any]]:
        found = self.collections[name]
        one = {k: v[-1] for k, v in query.items()}
        bounds = {"gte": int.__ge__, "gt": int.__gt__, "lte": int.__le__, "lt": int.__lt__}
        for op, test in bounds.items():
            if f"created[{op}]" in one:
                limit = int(one[f"created[{op}]"])
                found = [o for o in found if test(o["created"], limit)]
        for key in ("currency", "type", "customer", "subscription"):
            if key in one:
                found = [o for o in found if o.get(key) == one[key]]
        if name == "subscriptions":
            status = one.get("status")
            if status is None:
                found = [o for o in found if o["status"] != "canceled"]
            elif status != "all":
                found = [o for o in found if o["status"] == status]
        return found

    async def list(self, request: Request) -> JSONResponse:
        name = request.path_params["collection"]
        query: dict[str, list[str]] = {}
        for key, value in request.query_params.multi_items():
            query.setdefault(key, []).append(value)
        self.requests.append((request.url.path, query))
        if name not in self.collections:
            return _stripe_error(404, f"Unrecognized request URL (GET: /v1/{name})")
        limit = int(query.get("limit", ["10"])[-1])
        if not 1 <= limit <= 100:
            return _stripe_error(400, "Invalid limit: must be between 1 and 100", "limit")
        found = self.select(name, query)
        ids = [o["id"] for o in found]
        if "starting_after" in query:
            start = ids.index(query["starting_after"][-1]) + 1
            page, more = found[start : start + limit], start + limit < len(found)
        elif "ending_before" in query:
            end = ids.index(query["ending_before"][-1])
            page, more = found[max(0, end - limit) : end], end - limit > 0
        else:
            page, more = found[:limit], limit < len(found)
        return JSONResponse({"object": "list", "url": f"/v1/{name}", "has_more": more, "data": page})

    async def retrieve(self, request: Request) -> JSONResponse:
        name, oid = request.path_params["collection"], request.path_params["id"]
        expand = [v for k, v in request.query_params.multi_items() if k.startswith("expand[")]
        self.requests.append((request.url.path, {"expand": expand}))
        for obj in self.collections.get(name, []):
            if obj["id"] == oid:
                shown = obj if name != "prices" or "tiers" in expand else {**obj, "tiers": None}
                return JSONResponse(shown)
        return _stripe_error(404, f"No such {name.rstrip('s')}: '{oid}'", "id")

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/{collection}", self.list, methods=["GET"]),
                Route("/v1/{collection}/{id}", self.retrieve, methods=["GET"]),
            ]
        )


def transaction(
    id: str, created: int, currency: str, type: str, amount: int, fee: int = 0, **extra: Any
) -> dict[str, Any]:
    """A balance transaction as Stripe sends it."""
    return {
        "id": id,
        "object": "balance_transaction",
        "amount": amount,
        "available_on": created + 2 * 86400,
        "created": created,
        "currency": currency,
        "description": None,
        "exchange_rate": None,
        "fee": fee,
        "fee_details": [{"amount": fee, "currency": currency, "type": "stripe_fee", "description": "Stripe fees"}]
        if fee
        else [],
        "net": amount - fee,
        "reporting_category": type,
        "source": None,
        "status": "available",
        "type": type,
        **extra,
    }


def synthetic_transactions(count: int, *, seed: int = 7, start: int = 1_772_323_200) -> list[dict[str, Any]]:
    """``count`` balance transactions over 30 days in four currencies, with refunds and payouts."""
    rng = random.Random(seed)
    kinds = ["charge"] * 6 + ["payment"] * 2 + ["refund", "payout"]
    found = []
    for i in range(count):
        kind = rng.choice(kinds)
        currency = rng.choice(["usd", "usd", "eur", "jpy", "kwd"])
        amount = rng.randrange(100, 100_000) * (10 if currency == "kwd" else 1)
        fee = amount * 29 // 1000 + 30 if kind in {"charge", "payment"} else 0
        sign = -1 if kind in {"refund", "payout"} else 1
        extra = {"metadata": {"order": f"o_{i}"}} if i % 3 == 0 else {}
        found.append(
            transaction(f"txn_{i:08d}", start + rng.randrange(30 * 86400), currency, kind, sign * amount, fee, **extra)
        )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--transactions", type=int, default=10_000)
    args = parser.parse_args()
    import uvicorn

    ledger = Ledger({"balance_transactions": synthetic_transactions(args.transactions)})
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # inherited by accepted connections
    sock.bind(("127.0.0.1", args.port))
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    uvicorn.Server(uvicorn.Config(ledger.app(), log_level="warning", lifespan="off")).run(sockets=[sock])


if __name__ == "__main__":
    main()
