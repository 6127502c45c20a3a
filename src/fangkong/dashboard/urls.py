from django.urls import include, path

from fangkong.dashboard import views

app_name = "dashboard"
urlpatterns = [
    path("", views.dashboard, name="home"),
    path("data/<slug:name>.csv", views.chart_csv, name="csv"),
    path("exports/", include("fangkong.dashboard.export_urls")),
]
