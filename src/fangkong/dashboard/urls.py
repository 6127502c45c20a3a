from django.urls import include, path

from fangkong.dashboard import report_views, views

app_name = "dashboard"
urlpatterns = [
    path("", views.dashboard, name="home"),
    path("data.csv", views.chart_csv, name="csv"),
    path("exports/", include("fangkong.dashboard.export_urls")),
    path("report/", report_views.report_pdf, name="report"),
]
