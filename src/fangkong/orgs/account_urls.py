"""Login, logout and the user's own profile (API tokens)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from fangkong.orgs import views
from fangkong.orgs.login import LoginView

urlpatterns = [
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("profile/", views.profile, name="profile"),
    path("profile/tokens/", views.token_create, name="token-create"),
    path("profile/tokens/<int:token_id>/revoke/", views.token_revoke, name="token-revoke"),
]
