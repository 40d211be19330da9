from django.urls import path

from . import views

app_name = "signup"

urlpatterns = [
    path("", views.signup, name="signup"),
    path("sent/", views.signup_sent, name="sent"),
    path("verify/<str:token>/", views.verify, name="verify"),
]
