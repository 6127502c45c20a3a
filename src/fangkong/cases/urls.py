from django.urls import path

from fangkong.cases import investigation_views, views

app_name = "cases"
urlpatterns = [
    path("", views.case_list, name="list"),
    path("new/", views.case_register, name="register"),
    path("<int:case_id>/", views.case_detail, name="detail"),
    path("<int:case_id>/do/<slug:action>/", views.case_action, name="action"),
    path(
        "<int:case_id>/investigation/<slug:action>/",
        investigation_views.investigation_action,
        name="investigation",
    ),
    path("<int:case_id>/itinerary/", investigation_views.itinerary_add, name="itinerary-add"),
    path("itinerary/<int:entry_id>/remove/", investigation_views.itinerary_remove, name="itinerary-remove"),
]
