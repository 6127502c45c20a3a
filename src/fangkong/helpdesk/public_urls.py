"""URLs: public pages of the help desk (the form, ticket lookup)."""

from django.urls import path  # noqa: F401

app_name = "help"
urlpatterns: list = []
