"""The project's URLs plus the floor page, for the benchmark settings only."""

from django.urls import path

from cms_project.urls import handler403, handler404, handler500
from cms_project.urls import urlpatterns as project_urls

from . import views

urlpatterns = [path("bench/floor/", views.floor, name="bench_floor"), *project_urls]

__all__ = ["urlpatterns", "handler403", "handler404", "handler500"]
