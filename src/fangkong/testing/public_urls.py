from django.urls import path

from fangkong.testing import public_views

app_name = "testing-public"
urlpatterns = [
    path("sites/", public_views.sites, name="sites"),
    path("result/", public_views.result_lookup, name="lookup"),
    path("code/<str:code>/", public_views.result_by_code, name="code"),
]
