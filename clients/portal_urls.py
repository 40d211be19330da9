"""Client portal pages of the clients app (mounted at /portal/account/)."""

from django.urls import path

from . import portal_views as views

app_name = "clients_portal"

urlpatterns = [
    path("", views.account, name="account"),
    path("edit/", views.account_edit, name="account_edit"),
    path("locations/new/", views.location_add, name="location_add"),
    path("locations/<int:pk>/", views.location_detail, name="location"),
    path("equipment/<int:pk>/", views.equipment_detail, name="equipment"),
]
