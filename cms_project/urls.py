"""Root URLs: accounts, the staff workspace (/staff/), the client portal (/portal/)."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from staff import login_views
from staff.mail import QueuedPasswordResetForm
from staff.permissions import login_required_any_role, public
from staff.urls import account_urlpatterns

from .dashboard import views as dashboard

account_patterns = [
    # Password, then a code for users with two-factor authentication (staff.login_views).
    path("login/", login_views.login_view, name="login"),
    path("login/verify/", login_views.login_verify, name="login_verify"),
    path("logout/", public(auth_views.LogoutView.as_view()), name="logout"),
    path(
        "password/change/",
        login_required_any_role(login_views.password_change),
        name="password_change",
    ),
    path(
        "password/change/done/",
        login_required_any_role(auth_views.PasswordChangeDoneView.as_view()),
        name="password_change_done",
    ),
    path(
        "password/reset/",
        public(
            auth_views.PasswordResetView.as_view(
                # Queued in the delivery log (retried, hidden there: the link is a secret).
                form_class=QueuedPasswordResetForm,
                email_template_name="registration/password_reset_email.txt",
                subject_template_name="registration/password_reset_subject.txt",
            )
        ),
        name="password_reset",
    ),
    path(
        "password/reset/sent/",
        public(auth_views.PasswordResetDoneView.as_view()),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        public(login_views.password_reset_confirm),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/",
        public(auth_views.PasswordResetCompleteView.as_view()),
        name="password_reset_complete",
    ),
]

urlpatterns = [
    path("", dashboard.home, name="home"),
    path("healthz", dashboard.health, name="health"),
    # Browsers ask for /favicon.ico whatever the page says; point them at the real icon.
    path("favicon.ico", dashboard.favicon, name="favicon"),
    path("accounts/", include(account_patterns)),
    path("accounts/", include((account_urlpatterns, "accounts"))),
    path("staff/", dashboard.workspace_home, name="workspace_home"),
    path("staff/", include("staff.urls")),
    path("staff/settings/", include("cms_project.company.urls")),
    path("staff/clients/", include("clients.urls")),
    path("staff/services/", include("services.urls")),
    # The invoices namespace: staff pages under staff/invoices/, portal pay and statement.
    path("", include("invoices.site_urls")),
    path("staff/reports/", include("cms_project.dashboard.urls")),
    path("portal/", dashboard.portal_home, name="portal_home"),
    path("portal/account/", include("clients.portal_urls")),
    path("portal/services/", include("services.portal_urls")),
    path("portal/invoices/", include("invoices.portal_urls")),
    path("messaging/", include("cms_project.messaging.urls")),
    path("signup/", include("cms_project.signup.urls")),
    path(settings.ADMIN_URL, admin.site.urls),
]

handler403 = "cms_project.dashboard.views.permission_denied"
handler404 = "cms_project.dashboard.views.page_not_found"
handler500 = "cms_project.dashboard.views.server_error"
