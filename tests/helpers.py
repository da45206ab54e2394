"""Helpers shared by the tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT.parent / "shared" / "stripe-fixtures" / "fixtures3.json"
API = "https://api.stripe.com"
KEY = "sk_test_4eC39HqLyjWDarjtT1zdp7dc"


def fixture_bytes(fixtures: dict[str, Any], name: str, **changes: Any) -> bytes:
    """Stripe's example object of type ``name`` as a JSON body, with some fields changed."""
    return json.dumps({**fixtures[name], **changes}).encode()


class Sleeps(list[float]):
    """The retry delays the client asked for (none are really slept)."""


def form(request: httpx.Request) -> list[tuple[str, str]]:
    """The decoded form pairs of a request body (POST) or query string (GET, DELETE)."""
    text = request.content.decode() if request.method == "POST" else request.url.query.decode()
    return parse_qsl(text, keep_blank_values=True)
