"""Who may use which view.

Every view in the project is wrapped by exactly one of these decorators. Each records the roles
it allows on the view (`view.allowed_roles`), which the permission-matrix test reads: a view
without a marker fails that test, so a forgotten check cannot ship.

Anonymous users are sent to the log-in page; a logged-in user of the wrong role gets 403.
Objects a user may not see are answered with 404 by the views themselves (see `get_*_for_user`
helpers in each app), so their existence is not revealed.
"""

from collections.abc import Callable, Iterable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from .models import Role

PUBLIC = frozenset({"anonymous", *Role.values})


def role_required(*roles: str) -> Callable:
    allowed = frozenset(roles)

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if user.role not in allowed:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapper.allowed_roles = allowed
        return wrapper

    return decorator


def public(view: Callable) -> Callable:
    """Marks a view anyone may open, logged in or not (log-in page, password reset)."""
    view.allowed_roles = PUBLIC
    return view


def login_required_any_role(view: Callable) -> Callable:
    """Any logged-in user, whatever the role (profile, password change, log-out)."""
    return role_required(*Role.values)(view)


admin_required = role_required(Role.ADMIN)
workspace_required = role_required(Role.ADMIN, Role.STAFF)
client_required = role_required(Role.CLIENT)


def allowed_roles_of(view: Callable) -> Iterable[str] | None:
    """The roles a resolved view allows, looking through class-based view wrappers."""
    return getattr(view, "allowed_roles", None)
