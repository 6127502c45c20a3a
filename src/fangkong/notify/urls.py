"""URLs: the outbox of text messages (staff)."""

from django.urls import path

from fangkong.notify import views

app_name = "notify"
urlpatterns = [
    path("outbox/", views.outbox, name="outbox"),
    path("outbox/<int:message_id>/do/<slug:action>/", views.action, name="action"),
]
