"""Where to go back to after a POST: a `next` value from the request, only if it is safe."""

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next_url(request: HttpRequest, candidate: str) -> str:
    """The candidate if it is a path on this site, else "". Only paths count: `redirect()`
    would take any other string for a view name and fail on it, so a hostile `next` must never
    reach it (it would be a 500), nor send the user to another site (an open redirect)."""
    if not candidate or not candidate.startswith("/"):
        return ""
    ok = url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return candidate if ok else ""
