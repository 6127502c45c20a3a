from django.urls import path

from fangkong.quarantine import lab_views, views

app_name = "quarantine"
urlpatterns = [
    path("", views.order_list, name="orders"),
    path("occupancy/", views.occupancy, name="occupancy"),
    path("<int:order_id>/", views.order_detail, name="order"),
    path("<int:order_id>/do/<slug:action>/", views.order_action, name="action"),
    path("tests/<int:test_id>/result/", views.test_result, name="test-result"),
    # the lab: tests due, results in bulk, the result import, corrections
    path("lab/", lab_views.tests_due, name="lab-due"),
    path("lab/units/", lab_views.unit_options, name="lab-units"),
    path("lab/results/", lab_views.results_record, name="lab-results"),
    path("lab/tests/<int:test_id>/correct/", lab_views.result_correct, name="lab-correct"),
    path("lab/imports/", lab_views.lab_imports, name="lab-imports"),
    path("lab/imports/template.csv", lab_views.lab_import_template, name="lab-import-template"),
    path("lab/imports/<int:lab_import_id>/", lab_views.lab_import_detail, name="lab-import"),
]
