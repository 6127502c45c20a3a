from django.urls import path

from fangkong.quarantine import views

app_name = "quarantine"
urlpatterns = [
    path("", views.order_list, name="orders"),
    path("occupancy/", views.occupancy, name="occupancy"),
    path("<int:order_id>/", views.order_detail, name="order"),
    path("<int:order_id>/do/<slug:action>/", views.order_action, name="action"),
    path("tests/<int:test_id>/result/", views.test_result, name="test-result"),
]
