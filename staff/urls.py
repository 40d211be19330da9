from django.urls import path

from . import views

app_name = "staff"

urlpatterns = [
    path("team/", views.team_list, name="team_list"),
    path("team/new/", views.team_create, name="team_create"),
    path("team/<int:pk>/edit/", views.team_edit, name="team_edit"),
    path("team/<int:pk>/deactivate/", views.team_deactivate, name="team_deactivate"),
    path("team/<int:pk>/reactivate/", views.team_reactivate, name="team_reactivate"),
    path("team/<int:pk>/password-link/", views.team_send_password_link, name="team_password_link"),
]

# Pages every logged-in user has, mounted under /accounts/.
account_urlpatterns = [
    path("profile/", views.profile, name="profile"),
]
