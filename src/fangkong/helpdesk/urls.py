"""URLs: staff pages of the help desk (queue, claims, call backs)."""

from django.urls import path  # noqa: F401

app_name = "helpdesk"
urlpatterns: list = []
