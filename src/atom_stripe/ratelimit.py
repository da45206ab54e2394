"""Rate limiters: what ``AsyncStripeClient(rate_limiter=...)`` takes.

``max_requests_per_second=25`` is shorthand for ``rate_limiter=LocalRateLimiter(25)``: one
process. One ``LocalRateLimiter`` given to several clients paces them together; a
``atom_stripe.contrib.redis.RedisRateLimiter`` paces every process that uses the same Redis
and name. Anything with ``async acquire() -> float`` (seconds waited) is a :class:`RateLimiter`.
"""

from ._throttle import LocalRateLimiter, RateLimiter, RateLimiterError, RateLimiterUnavailableError

__all__ = ["LocalRateLimiter", "RateLimiter", "RateLimiterError", "RateLimiterUnavailableError"]
