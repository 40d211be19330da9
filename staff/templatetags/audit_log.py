"""Links into the audit log from other pages: {% load audit_log %} … {% history_url client %}.

Only admins may open the audit log; templates show the link inside {% if user.is_admin %}."""

from urllib.parse import urlencode

from django import template
from django.urls import reverse

from staff.audit import label_for

register = template.Library()


@register.simple_tag
def history_url(obj) -> str:
    """The audit log filtered on one object (its history)."""
    query = urlencode({"object_type": obj._meta.label_lower, "object_id": obj.pk})
    return f"{reverse('staff:audit_list')}?{query}"


@register.filter
def action_label(action: str) -> str:
    return label_for(action)
