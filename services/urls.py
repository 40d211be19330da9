"""Staff workspace pages of the services app (mounted at /staff/services/)."""

from django.urls import path

from . import views

app_name = "services"

urlpatterns = [
    path("", views.catalog_list, name="catalog"),
    path("new/", views.service_create, name="service_create"),
    path("<int:pk>/", views.service_detail, name="service_detail"),
    path("<int:pk>/edit/", views.service_edit, name="service_edit"),
    path("<int:pk>/price/", views.service_price, name="service_price"),
    path(
        "<int:pk>/prices/<int:price_pk>/withdraw/",
        views.price_withdraw,
        name="price_withdraw",
    ),
    path("<int:pk>/deactivate/", views.service_deactivate, name="service_deactivate"),
    path("<int:pk>/reactivate/", views.service_reactivate, name="service_reactivate"),
    path("<int:pk>/delete/", views.service_delete, name="service_delete"),
    path("<int:pk>/announce/", views.service_announce, name="service_announce"),
    path("subscriptions/", views.subscription_list, name="subscription_list"),
    path("subscriptions/new/", views.location_search, name="location_search"),
    path(
        "locations/<int:location_pk>/subscribe/",
        views.subscription_create,
        name="subscription_create",
    ),
    path("subscriptions/<int:pk>/", views.subscription_detail, name="subscription_detail"),
    path("subscriptions/<int:pk>/change/", views.subscription_change, name="subscription_change"),
    path(
        "subscriptions/<int:pk>/activate/",
        views.subscription_activate,
        name="subscription_activate",
    ),
    path(
        "subscriptions/<int:pk>/suspend/", views.subscription_suspend, name="subscription_suspend"
    ),
    path("subscriptions/<int:pk>/resume/", views.subscription_resume, name="subscription_resume"),
    path("subscriptions/<int:pk>/cancel/", views.subscription_cancel, name="subscription_cancel"),
    path("bill/<int:client_pk>/", views.client_bill, name="client_bill"),
]
