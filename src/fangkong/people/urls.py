from django.urls import path

from fangkong.people import import_views, views

app_name = "people"
urlpatterns = [
    path("", views.person_list, name="list"),
    path("new/", views.person_create, name="create"),
    path("imports/", import_views.import_list, name="imports"),
    path("imports/template.csv", import_views.import_template, name="import-template"),
    path("imports/<int:import_id>/", import_views.import_detail, name="import"),
    path("<int:person_id>/", views.person_detail, name="detail"),
    path("<int:person_id>/edit/", views.person_edit, name="edit"),
    path("<int:person_id>/reveal/", views.person_reveal, name="reveal"),
    path("<int:person_id>/merge/", views.person_merge, name="merge"),
]
