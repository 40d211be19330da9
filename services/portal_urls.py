"""Client portal pages of the services app (mounted at /portal/services/)."""

from django.urls import path

from . import portal_views as views

app_name = "services_portal"

urlpatterns = [
    path("", views.my_services, name="my_services"),
    path("catalog/", views.catalog, name="catalog"),
    path("catalog/<int:pk>/", views.service_page, name="service"),
    path("catalog/<int:pk>/locations/<int:location_pk>/", views.subscribe, name="subscribe"),
    path("subscriptions/<int:pk>/cancel/", views.cancel, name="cancel"),
]
