from django.urls import path

from . import audit_views, security_views, views

app_name = "staff"

urlpatterns = [
    path("team/", views.team_list, name="team_list"),
    path("team/new/", views.team_create, name="team_create"),
    path("team/<int:pk>/edit/", views.team_edit, name="team_edit"),
    path("team/<int:pk>/deactivate/", views.team_deactivate, name="team_deactivate"),
    path("team/<int:pk>/reactivate/", views.team_reactivate, name="team_reactivate"),
    path("team/<int:pk>/password-link/", views.team_send_password_link, name="team_password_link"),
    path("security/", security_views.security_admin, name="security_admin"),
    path("security/unlock/", security_views.security_unlock, name="security_unlock"),
    path(
        "security/users/<int:pk>/reset-2fa/",
        security_views.user_2fa_reset,
        name="user_2fa_reset",
    ),
    path("audit/", audit_views.audit_list, name="audit_list"),
    path("audit/export.csv", audit_views.audit_export, name="audit_export"),
]

# Pages every logged-in user has, mounted under /accounts/.
account_urlpatterns = [
    path("profile/", views.profile, name="profile"),
    path("profile/phone/verify/", views.phone_verify, name="phone_verify"),
    path("profile/email/confirm/<str:token>/", views.email_confirm, name="email_confirm"),
    path("security/", security_views.security, name="security"),
    path("security/app/", security_views.security_totp, name="security_totp"),
    path("security/app/off/", security_views.security_totp_disable, name="security_totp_disable"),
    path("security/sms/", security_views.security_sms, name="security_sms"),
    path("security/sms/verify/", security_views.security_sms_verify, name="security_sms_verify"),
    path("security/sms/off/", security_views.security_sms_disable, name="security_sms_disable"),
    path(
        "security/backup-codes/",
        security_views.security_backup_codes,
        name="security_backup_codes",
    ),
    path("security/off/", security_views.security_disable, name="security_disable"),
    path(
        "security/sessions/end-others/",
        security_views.security_end_other_sessions,
        name="security_end_other_sessions",
    ),
]
