"""Every default and fixed name of the send path, in one place (the modules that use them import them here)."""

from __future__ import annotations

import httpx

# --- where calls go ---------------------------------------------------------------------------

DEFAULT_BASE_URL = "https://api.stripe.com"
#: Where file uploads (``files.create``) and downloads (``quotes.pdf``) go.
DEFAULT_FILES_BASE_URL = "https://files.stripe.com"
#: Where v2's high-throughput meter event stream goes (stripe-python's ``meter_events`` base address).
DEFAULT_METER_EVENTS_BASE_URL = "https://meter-events.stripe.com"
#: The API version stripe-python 16.1.0 pins; every request sends it as ``Stripe-Version``.
DEFAULT_API_VERSION = "2026-10-28.endive"
#: Connect OAuth's endpoints, whose error responses have a shape of their own.
OAUTH_PATHS = "/oauth/"

# --- how long, how often, how much ------------------------------------------------------------

#: Seconds one attempt may take (stripe-python's default too).
DEFAULT_TIMEOUT = 80.0
#: The connect timeout when ``timeout`` is given as a number of seconds.
CONNECT_TIMEOUT = 5.0
DEFAULT_MAX_RETRIES = 2
#: The connection pool of a client's own making.
DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=30.0)
#: The largest decoded response body accepted, in bytes: far above Stripe's largest responses
#: (a page of 100 expanded objects is a few MB).
DEFAULT_MAX_RESPONSE_SIZE = 64 * 1024 * 1024
#: Stripe's limit on an idempotency key's length.
MAX_IDEMPOTENCY_KEY = 255

#: First backoff delay and its ceiling, in seconds (Stripe's own clients use 0.5 and 5).
INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 5.0
#: The longest ``Retry-After`` we wait for; a longer one is cut to this.
MAX_RETRY_AFTER = 20.0
#: Statuses retried when Stripe does not say (with ``Stripe-Should-Retry``); 5xx are too.
RETRYABLE_STATUS = frozenset({409, 429})
#: How many recent latencies ``client.stats()`` keeps per endpoint for its percentiles.
STATS_LATENCIES_KEPT = 2048

# --- names on the wire and between layers -----------------------------------------------------

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
STRIPE_ACCOUNT_HEADER = "Stripe-Account"
#: v2's successor of Stripe-Account: the account (and context) a v2 call acts in.
STRIPE_CONTEXT_HEADER = "Stripe-Context"
STRIPE_VERSION_HEADER = "Stripe-Version"
#: Response headers, as read (case-insensitively).
REQUEST_ID_HEADER = "request-id"
SHOULD_RETRY_HEADER = "stripe-should-retry"
RETRY_AFTER_HEADER = "retry-after"

#: Request extensions every transport honours: the deadline of one whole attempt (seconds or
#: None), and the largest decoded body.
DEADLINE = "atom_stripe.deadline"
MAX_RESPONSE_SIZE = "atom_stripe.max_response_size"
