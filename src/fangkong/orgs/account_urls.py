"""Login, logout, the second factor and the user's own profile (API tokens)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from fangkong.orgs import second_factor_views, views
from fangkong.orgs.login import LoginView

urlpatterns = [
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("second-factor/", second_factor_views.verify, name="second-factor"),
    path("second-factor/setup/", second_factor_views.setup, name="second-factor-setup"),
    path("second-factor/recovery-codes/", second_factor_views.recovery_codes, name="recovery-codes"),
    path(
        "second-factor/recovery-codes/new/", second_factor_views.recovery_codes_new, name="recovery-codes-new"
    ),
    path("profile/", views.profile, name="profile"),
    path("profile/tokens/", views.token_create, name="token-create"),
    path("profile/tokens/<int:token_id>/revoke/", views.token_revoke, name="token-revoke"),
]
