"""A fixed-window counter in the cache, for limits that are not per device (sign-ups).

Configure a shared cache (CACHE_URL, e.g. Redis) in production so every web process counts
together; the default in-memory cache counts per process.
"""

from django.core.cache import cache


def allow(key: str, *, limit: int, window_seconds: int) -> bool:
    """Count one more event for `key`; False once more than `limit` happened in the window."""
    key = f"ratelimit:{key}"
    cache.add(key, 0, window_seconds)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window_seconds)
        count = 1
    return count <= limit
