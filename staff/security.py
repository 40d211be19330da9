"""Small security helpers other apps use on their views."""

from collections.abc import Callable
from functools import wraps

from django.utils.cache import add_never_cache_headers, patch_cache_control


def no_store(view: Callable) -> Callable:
    """Send the response with `Cache-Control: no-store` (and no-cache, private, max-age=0), so
    no browser, proxy or back button keeps a copy of a sensitive page (invoices, statements,
    payments, account security). Keeps the permission marker of the view it wraps, so it can
    sit above or below the permission decorator."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        add_never_cache_headers(response)
        patch_cache_control(response, no_store=True, private=True)
        return response

    return wrapper
