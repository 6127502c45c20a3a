"""URLs: staff pages of the help desk (queue, claims, call backs, SLA)."""

from django.urls import path

from fangkong.helpdesk import views

app_name = "helpdesk"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("sla/", views.sla, name="sla"),
    path("<int:request_id>/", views.detail, name="detail"),
    path("<int:request_id>/reveal/", views.reveal, name="reveal"),
    path("<int:request_id>/do/<slug:action>/", views.action, name="action"),
]
