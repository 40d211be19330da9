"""Template context available on every page."""

from django.conf import settings
from django.http import HttpRequest


def company(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    # Pages every role shares (profile, password change, error pages) use the layout, and so
    # the navigation, of the portal the user belongs to.
    if user is None or not user.is_authenticated:
        base_template = "base.html"
    elif user.works_in_workspace:
        base_template = "workspace/base.html"
    else:
        base_template = "portal/base.html"
    return {"company_name": settings.COMPANY["name"], "base_template": base_template}
