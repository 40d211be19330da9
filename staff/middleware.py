"""Session rules Django does not have built in.

- Idle timeout: staff and admins are logged out after STAFF_IDLE_TIMEOUT_MINUTES without a
  request (clients after CLIENT_IDLE_TIMEOUT_MINUTES, off by default).
- Absolute lifetime: a session ends SESSION_COOKIE_AGE after log-in however active it is.
  Django's own expiry slides forward each time the session is saved, so it cannot do this.
- "Set up 2FA first": when the security policy requires a second factor for staff and admins,
  one without it can only reach the account pages until they have set it up.
"""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY

LOGIN_AT_KEY = "_login_at"
LAST_SEEN_KEY = "_last_seen"
# Saving the session on every request would cost a write each time: the idle clock is
# refreshed at most once a minute, which is all a 30-minute timeout needs.
TOUCH_EVERY_SECONDS = 60


def idle_timeout_seconds(user) -> int:
    if user.works_in_workspace:
        minutes = settings.STAFF_IDLE_TIMEOUT_MINUTES
    else:
        minutes = settings.CLIENT_IDLE_TIMEOUT_MINUTES
    return max(0, minutes) * 60


def stamp_login(session) -> None:
    now = int(time.time())
    session[LOGIN_AT_KEY] = now
    session[LAST_SEEN_KEY] = now


class SessionSecurityMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            ended = self._end_if_expired(request, user)
            if ended is not None:
                return ended
            if self._must_set_up_2fa(request, user):
                messages.warning(
                    request,
                    "Your company requires two-factor authentication for staff accounts. "
                    "Set up an authenticator app or SMS codes to continue.",
                )
                return redirect("accounts:security")
        return self.get_response(request)

    def _end_if_expired(self, request, user):
        session = request.session
        now = int(time.time())
        login_at = session.get(LOGIN_AT_KEY)
        last_seen = session.get(LAST_SEEN_KEY)
        if login_at is None:
            # A session from before these rules (or a test's force_login): start the clocks.
            stamp_login(session)
            return None
        reason = None
        if now - login_at > settings.SESSION_COOKIE_AGE:
            reason = "Your session has ended (sessions last at most {} hours). Please log in again."
            reason = reason.format(settings.SESSION_COOKIE_AGE // 3600)
        else:
            idle = idle_timeout_seconds(user)
            if idle and last_seen is not None and now - last_seen > idle:
                reason = (
                    f"You were logged out after {idle // 60} minutes without activity. "
                    "Please log in again."
                )
        if reason is None:
            if last_seen is None or now - last_seen >= TOUCH_EVERY_SECONDS:
                session[LAST_SEEN_KEY] = now
            return None
        from .audit import record

        record(actor=user, action="auth.idle_timeout", obj=user, request=request, note=reason)
        request.session_expired = True  # the log-out receiver leaves the audit entry to us
        logout(request)  # flushes the session on the server, and a new key for the next one
        messages.info(request, reason)
        if request.method == "GET":
            return redirect_to_login(request.get_full_path())
        return redirect_to_login(reverse("home"))

    def _must_set_up_2fa(self, request, user) -> bool:
        if not user.works_in_workspace:
            return False
        if request.path.startswith(("/accounts/", settings.STATIC_URL)):
            return False  # account pages (security set-up, log-out, password) stay reachable
        if DEVICE_ID_SESSION_KEY in request.session:
            return False  # logged in with a second factor
        from .twofactor import has_second_factor, policy_requires_2fa_for_staff

        return policy_requires_2fa_for_staff() and not has_second_factor(user)
