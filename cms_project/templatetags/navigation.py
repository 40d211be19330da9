"""`{% load navigation %}`: the staff workspace menu and links to pages that may not exist yet.

- `{% workspace_menu %}` renders the menu of `cms_project.navigation.WORKSPACE_MENU`.
- `{% url_if_exists "invoices:portal_pay" as pay_url %}{% if pay_url %}…{% endif %}` gives ""
  instead of raising when the URL name does not resolve (a page not landed yet).
"""

from django import template

from cms_project.navigation import build_menu
from cms_project.navigation import url_if_exists as _url_if_exists

register = template.Library()


@register.simple_tag
def url_if_exists(url_name: str, *args) -> str:
    return _url_if_exists(url_name, *args)


@register.inclusion_tag("workspace/_menu.html", takes_context=True)
def workspace_menu(context):
    request = context["request"]
    match = getattr(request, "resolver_match", None)
    user = request.user
    return {
        "menu": build_menu(
            view_name=match.view_name if match else "",
            is_admin=getattr(user, "is_admin", False),
        )
    }
