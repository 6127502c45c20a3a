"""URLs: public pages of the help desk (the form, the ticket page), no login."""

from django.urls import path

from fangkong.helpdesk import public_views as views

app_name = "help"
urlpatterns = [
    path("", views.request_form, name="form"),
    path("address/", views.address_fields, name="address"),
    path("ticket/", views.ticket_lookup, name="lookup"),
    path("t/<str:ticket>/", views.ticket_page, name="ticket"),
    path("t/<str:ticket>/rate/", views.ticket_rate, name="rate"),
]
