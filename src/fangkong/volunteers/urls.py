"""URLs: staff pages of volunteers (approval, dispatch, hours)."""

from django.urls import path  # noqa: F401

app_name = "volunteers"
urlpatterns: list = []
