"""URLs: staff pages of the portal (drafts, publishing, risk areas)."""

from django.urls import path  # noqa: F401

app_name = "publish"
urlpatterns: list = []
