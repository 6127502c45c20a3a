"""URLs: public pages of volunteers (sign-up, commendations)."""

from django.urls import path

from fangkong.volunteers import public_views

app_name = "volunteer"
urlpatterns = [
    path("", public_views.signup, name="signup"),
    path("thanks/", public_views.thanks, name="thanks"),
    path("honours/", public_views.honours, name="honours"),
]
