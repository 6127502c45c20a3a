"""URLs: staff pages of volunteers (approval, dispatch, hours, commendations)."""

from django.urls import path

from fangkong.volunteers import views

app_name = "volunteers"
urlpatterns = [
    path("", views.volunteer_list, name="list"),
    path("commendations/", views.commendation_list, name="commendations"),
    path("<int:volunteer_id>/", views.volunteer_detail, name="detail"),
    path("<int:volunteer_id>/reveal/", views.volunteer_reveal, name="reveal"),
    path("<int:volunteer_id>/decide/<str:decision>/", views.volunteer_decide, name="decide"),
    path("<int:volunteer_id>/dispatch/", views.volunteer_dispatch, name="dispatch"),
    path("<int:volunteer_id>/commend/", views.volunteer_commend, name="commend"),
    path("dispatches/<int:dispatch_id>/complete/", views.dispatch_complete, name="dispatch-complete"),
    path("dispatches/<int:dispatch_id>/cancel/", views.dispatch_cancel, name="dispatch-cancel"),
    path("commendations/<int:commendation_id>/publish/", views.commendation_publish, name="publish"),
]
