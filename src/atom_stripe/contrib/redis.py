"""Redis for several replicas: one shared rate limit, and webhook claims (``pip install atom_stripe[redis]``).

::

    from redis.asyncio import Redis
    from atom_stripe.contrib.redis import RedisEventStore, RedisRateLimiter

    redis = Redis.from_url("redis://redis:6379/0")
    stripe = AsyncStripeClient(rate_limiter=RedisRateLimiter(redis, requests_per_second=25, name="acct_main"))
    router = WebhookRouter(secret, store=RedisEventStore(redis))

Both use the ``redis`` package's asyncio client, so they run on asyncio (not trio). Every
decision is one Lua script, atomic in Redis. When Redis cannot be reached they raise typed
errors (:class:`~atom_stripe.ratelimit.RateLimiterUnavailableError`,
:class:`~atom_stripe.webhooks.EventStoreError`) instead of letting a guarantee lapse, and
work again as soon as Redis is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Awaitable, Callable
from secrets import token_hex
from typing import Any, TypeVar

import anyio
import sniffio

from .._errors import StripeError, StripeUsageError, StripeValueError
from .._extras import needs_extra
from .._throttle import GCRALimiter, RateLimiter, RateLimiterUnavailableError
from .._validation import check_rate
from ..webhooks import Claim, EventStoreError

with needs_extra("redis"):
    from redis.asyncio import Redis
    from redis.exceptions import OutOfMemoryError, RedisError, ResponseError

__all__ = ["RedisEventStore", "RedisRateLimiter"]

logger = logging.getLogger("atom_stripe")

#: Failures that mean "Redis cannot be asked right now" (redis-py wraps most socket errors).
UNAVAILABLE = (RedisError, OSError)

#: Seconds one Redis round trip may take. redis-py sets no socket timeout by default, so a
#: frozen Redis (a stopped process, a dropped network path) would hang every caller for ever.
DEFAULT_TIMEOUT = 5.0

T = TypeVar("T")


def check_timeout(timeout: Any) -> float:
    """A round trip's time limit, checked: a positive number of seconds."""
    return check_rate("timeout", timeout)


async def call_redis(call: Callable[[], Awaitable[T]], *, timeout: float, error: type[StripeError], what: str) -> T:
    """One Redis round trip within ``timeout`` seconds. No answer in time, or a Redis or socket
    error, raises ``error`` (``what`` names the Redis in its message). redis-py drops a
    connection whose command was cut short, so no late reply reaches the next command."""
    try:
        with anyio.fail_after(timeout):
            return await call()
    except TimeoutError:  # before UNAVAILABLE: the builtin TimeoutError is an OSError
        raise error(f"{what} did not answer within {timeout:g} s.") from None
    except UNAVAILABLE as exc:
        raise error(f"{what} cannot be reached: {exc}") from None


# GCRA in microseconds of Redis' own clock, so every process agrees on the time.
# KEYS[1]: the limit's key. ARGV: interval, burst, budget (µs; negative: no limit). Returns
# the wait (µs), or -1 when the next turn is further away than the budget (nothing is taken).
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local budget = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local wait = tat - (tonumber(ARGV[2]) - 1) * interval - now
if wait < 0 then wait = 0 end
if budget >= 0 and wait > budget then return -1 end
tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000) + 1000)
return wait
"""
# A turn taken and not used goes back: the timestamp one interval earlier, never before now
# (a full bucket, the same as no key). ARGV: interval (µs).
_GIVE_BACK = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0') - tonumber(ARGV[1])
if tat <= now then redis.call('DEL', KEYS[1]) return 0 end
redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000) + 1000)
return 1
"""

# Event claims. A key holds 'busy:<token>' while one delivery handles the event (expiring
# after claim_ttl, so a replica that dies does not hold it forever), then 'done' for ttl.
_CLAIM = """
local v = redis.call('GET', KEYS[1])
if not v then
  redis.call('SET', KEYS[1], 'busy:' .. ARGV[1], 'PX', ARGV[2])
  return 'claimed'
end
if v == 'done' then return 'done' end
return 'busy'
"""
_COMPLETE = """
local v = redis.call('GET', KEYS[1])
if not v or v == 'busy:' .. ARGV[1] then
  redis.call('SET', KEYS[1], 'done', 'PX', ARGV[2])
  return 1
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == 'busy:' .. ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _check_redis(redis: Any) -> Redis:
    if not isinstance(redis, Redis):
        raise StripeValueError("redis", "must be a redis.asyncio.Redis client (redis.asyncio.Redis.from_url(...))")
    return redis


def _check_asyncio(what: str) -> None:
    if sniffio.current_async_library() != "asyncio":
        raise StripeUsageError(f"{what} uses the redis package's asyncio client: run it on asyncio, not trio.")


class RedisRateLimiter(GCRALimiter):
    """One request rate shared by every client, in every process, that uses this Redis and ``name``.

    ``name`` is required and scopes the limit (the key is ``atom_stripe:ratelimit:{name}``):
    use one per Stripe account and mode, which is what Stripe limits, e.g. ``"acct_123:live"``.
    Services that share a Redis but not an account must use different names. Turns are handed out in
    the order Redis receives the requests for them (fair under contention): ``burst`` at
    once after an idle spell, then one every ``1 / requests_per_second`` seconds, so no
    one-second window holds ``requests_per_second + burst`` starts. A call waits at most
    ``max_wait`` seconds for its turn (else :class:`~atom_stripe.ratelimit.RateLimiterError`,
    nothing sent), never takes a turn it could only use after its deadline, and gives its
    turn back when it is cancelled while it waits (``asyncio.timeout``, ``wait_for``,
    ``Task.cancel()``, a cancel scope). ``max_wait=None`` waits however far away the turn is.

    When Redis cannot be reached or does not answer within ``timeout`` seconds, calls raise
    :class:`~atom_stripe.ratelimit.RateLimiterUnavailableError` (not sent), unless a
    ``fallback`` limiter is given: then they are paced by it (for example a
    ``LocalRateLimiter`` at your share of the limit) until Redis answers again.
    """

    def __init__(
        self,
        redis: Redis,
        *,
        requests_per_second: float,
        name: str | None = None,
        burst: int | None = None,
        max_wait: float | None = 60.0,
        fallback: RateLimiter | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        super().__init__(requests_per_second, burst=1 if burst is None else burst, max_wait=max_wait)
        if not isinstance(name, str) or not name:
            # No default: one Redis often serves several services, and a shared default name
            # would make unrelated Stripe accounts wait for each other's turns.
            raise StripeValueError(
                "name", "is required: a non-empty string naming the Stripe account (and mode), e.g. 'acct_123:live'"
            )
        if fallback is not None and not isinstance(fallback, RateLimiter):
            raise StripeValueError("fallback", "must be a rate limiter, e.g. LocalRateLimiter(...)")
        self.redis = _check_redis(redis)
        self.name = name
        self.key = f"atom_stripe:ratelimit:{name}"
        self.fallback = fallback
        self.timeout = check_timeout(timeout)
        self._interval_us = str(round(self.interval * 1e6))
        self._script = self.redis.register_script(_RESERVE)
        self._give_back_script = self.redis.register_script(_GIVE_BACK)

    def __repr__(self) -> str:
        return f"RedisRateLimiter({self.name!r}, {self.requests_per_second:g}/s, burst={self.burst})"

    async def acquire(self) -> float:
        _check_asyncio("RedisRateLimiter")
        try:
            return await super().acquire()
        except RateLimiterUnavailableError:
            if self.fallback is None:
                raise
            return await self.fallback.acquire()

    async def _run(self, script: Any, *args: str) -> Any:
        return await call_redis(
            lambda: script(keys=[self.key], args=list(args)),
            timeout=self.timeout,
            error=RateLimiterUnavailableError,
            what="The shared rate limiter's Redis",
        )

    async def _reserve(self, budget: float) -> float | None:
        budget_us = "-1" if budget == math.inf else str(int(budget * 1e6))
        # The round trip runs in its own task: a cancel that lands while Redis answers (or
        # just after) cannot know whether the script took a turn, so it waits for the answer
        # (one round trip, bounded by timeout) and gives back a turn that was taken.
        trip = asyncio.ensure_future(self._run(self._script, self._interval_us, str(self.burst), budget_us))
        try:
            wait_us = int(await asyncio.shield(trip))
        except BaseException:
            with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
                if int(await asyncio.shield(trip)) >= 0:  # the trip's own error: nothing taken
                    await self._give_back()
            raise
        return None if wait_us < 0 else wait_us / 1e6

    async def _give_back(self) -> None:
        try:
            await self._run(self._give_back_script, self._interval_us)
        except RateLimiterUnavailableError as exc:
            # The caller is being cancelled: that goes on; the turn stays taken (as if used).
            logger.warning("atom_stripe: a cancelled call's turn could not be given back: %s", exc)


class RedisEventStore:
    """The webhook event store in Redis: exactly one replica handles each event.

    ``claim`` is atomic in Redis. A claim lasts ``claim_ttl`` seconds unless completed or
    released, so a replica that dies mid-handler does not block the event for ever; while
    the handlers run, the router renews it every third of that (:meth:`extend`), so a long
    handler keeps it. A handled event is remembered for ``ttl`` seconds (Stripe retries for
    up to three days). Keys are ``{prefix}{key}``, where the router's key is
    ``<endpoint>:<account or ->:<event id>``: services sharing a Redis keep apart.

    Every round trip has ``timeout`` seconds (a frozen Redis is an :class:`EventStoreError`,
    answered 503, not a hang). At first use the store reads Redis' ``maxmemory-policy``: any
    policy but ``noeviction`` lets Redis drop claims and handled events under memory
    pressure (Stripe's redeliveries would then run again), so it is refused unless
    ``allow_eviction=True``. A Redis out of memory under ``noeviction`` refuses writes: that
    is an :class:`EventStoreError` that says so.
    """

    _WHAT = "The event store's Redis"
    # KEYS[1]: the claim. ARGV: token, claim_ttl (ms). 1 when renewed, 0 when it is not this token's.
    _EXTEND = """
if redis.call('GET', KEYS[1]) == 'busy:' .. ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""

    def __init__(
        self,
        redis: Redis,
        *,
        ttl: float = 7 * 86_400,
        claim_ttl: float = 120.0,
        prefix: str = "atom_stripe:event:",
        timeout: float = DEFAULT_TIMEOUT,
        allow_eviction: bool = False,
    ) -> None:
        self.redis = _check_redis(redis)
        self.ttl_ms = str(math.ceil(check_rate("ttl", ttl) * 1000))
        self.claim_ttl = check_rate("claim_ttl", claim_ttl)
        self.claim_ttl_ms = str(math.ceil(self.claim_ttl * 1000))
        if not isinstance(prefix, str):
            raise StripeValueError("prefix", "must be a string, e.g. 'atom_stripe:event:'")
        self.prefix = prefix
        self.timeout = check_timeout(timeout)
        if not isinstance(allow_eviction, bool):
            raise StripeValueError("allow_eviction", "must be True or False")
        self.allow_eviction = allow_eviction
        self._checked = False
        self._claim = self.redis.register_script(_CLAIM)
        self._complete = self.redis.register_script(_COMPLETE)
        self._release = self.redis.register_script(_RELEASE)
        self._extend = self.redis.register_script(self._EXTEND)

    def __repr__(self) -> str:
        return f"RedisEventStore(prefix={self.prefix!r})"

    async def _call(self, call: Callable[[], Awaitable[T]]) -> T:
        """One round trip within ``timeout``; an out-of-memory refusal named as such."""
        _check_asyncio("RedisEventStore")

        async def named() -> T:
            try:
                return await call()
            except OutOfMemoryError as exc:  # Redis' "OOM command not allowed ...", not an outage
                raise EventStoreError(
                    f"{self._WHAT} is out of memory (OOM: maxmemory reached under noeviction) and refuses writes: "
                    f"{exc} Free memory or raise maxmemory; until then no event is handled (Stripe retries them)."
                ) from None

        return await call_redis(named, timeout=self.timeout, error=EventStoreError, what=self._WHAT)

    async def _run(self, script: Any, key: str, *args: str) -> Any:
        return await self._call(lambda: script(keys=[self.prefix + key], args=list(args)))

    async def check(self) -> None:
        """Refuse a Redis that may evict keys, unless ``allow_eviction``; done at the first claim.

        Call it at start-up to fail early. A Redis that does not say its policy (``INFO``
        refused) is used, with a warning.
        """

        async def policy() -> str | None:
            try:
                info = await self.redis.info("memory")
            except ResponseError:  # INFO refused (an ACL, a managed Redis): we cannot tell
                return None
            value = info.get("maxmemory_policy")
            return value.decode() if isinstance(value, bytes) else None if value is None else str(value)

        found = await self._call(policy)
        if found is None:
            logger.warning(
                "RedisEventStore cannot read Redis' maxmemory-policy: make sure it is noeviction, or handled "
                "webhook events may be evicted and run again"
            )
        elif found != "noeviction":
            if not self.allow_eviction:
                raise EventStoreError(
                    f"{self._WHAT} may evict keys (maxmemory-policy {found}): a claim or a handled event could vanish "
                    "and Stripe's redelivery run the handlers again. Set maxmemory-policy noeviction on it (or give "
                    "the store a Redis of its own), or pass RedisEventStore(..., allow_eviction=True) to accept that."
                )
            logger.warning(
                "RedisEventStore on a Redis that may evict keys (maxmemory-policy %s, allowed): handled webhook "
                "events may be evicted and run again",
                found,
            )
        self._checked = True

    async def claim(self, event_id: str) -> Claim:
        if not self._checked:
            await self.check()
        token = token_hex(8)
        status = await self._run(self._claim, event_id, token, self.claim_ttl_ms)
        status = status.decode() if isinstance(status, bytes) else str(status)
        if status == "claimed":
            return Claim("claimed", token, ttl=self.claim_ttl)
        return Claim("done" if status == "done" else "busy")

    async def extend(self, event_id: str, token: str) -> bool:
        """Renew a claim for another ``claim_ttl``; False when it is no longer this token's."""
        return bool(await self._run(self._extend, event_id, token, self.claim_ttl_ms))

    async def complete(self, event_id: str, token: str) -> None:
        await self._run(self._complete, event_id, token, self.ttl_ms)

    async def release(self, event_id: str, token: str) -> None:
        await self._run(self._release, event_id, token)
