"""`{% deliveries_for obj %}`: the deliveries about an object, for other apps' pages."""

from django import template

from ..queries import deliveries_for as deliveries_for_query

register = template.Library()


@register.inclusion_tag("messaging/_deliveries_for.html", takes_context=True)
def deliveries_for(context, obj, limit: int = 20, heading: str = "Messages sent"):
    """Lists the latest `limit` deliveries about `obj`. Staff and admins also get the re-send
    buttons, which come back to the page they were pressed on."""
    request = context.get("request")
    user = getattr(request, "user", None)
    deliveries = list(deliveries_for_query(obj)[: limit + 1])
    return {
        "deliveries": deliveries[:limit],
        "more": len(deliveries) > limit,
        "heading": heading,
        "anchor": f"{obj._meta.model_name}-{obj.pk}",
        "can_resend": bool(user and getattr(user, "works_in_workspace", False)),
        "next_url": request.get_full_path() if request else "",
        "csrf_token": context.get("csrf_token"),
        "request": request,
    }
