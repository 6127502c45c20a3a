from django.urls import path

from fangkong.worklist import views

app_name = "worklist"
urlpatterns = [
    path("", views.my_work, name="mine"),
    path("complete/", views.complete_many, name="complete-many"),
    path("<int:item_id>/", views.item_detail, name="item"),
    path("<int:item_id>/<slug:action>/", views.item_action, name="action"),
]
