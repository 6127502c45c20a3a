from django.urls import path

from fangkong.contacts import companion_views, discovery_views, handoff_views, views

app_name = "contacts"
urlpatterns = [
    path("case/<int:case_id>/", views.case_contacts, name="case"),
    path("case/<int:case_id>/identified/", views.contacts_identified, name="identified"),
    path("timeliness/", views.timeliness_page, name="timeliness"),
    path("case/<int:case_id>/import/", views.contact_import_upload, name="import-upload"),
    path("imports/<int:contact_import_id>/", views.contact_import_detail, name="import"),
    path("imports/template.csv", views.contact_import_template, name="import-template"),
    path("cluster/<int:case_id>/", views.cluster_page, name="cluster"),
    path("cluster/<int:case_id>/data.json", views.cluster_data, name="cluster-data"),
    path("case/<int:case_id>/discover/", discovery_views.discovery_start_view, name="discover"),
    path("case/<int:case_id>/proposals/", discovery_views.proposals_decide, name="proposals"),
    path("decisions/<int:decision_id>/", discovery_views.decision_status, name="decision"),
    path("discovery/<int:run_id>/", discovery_views.discovery_status, name="discovery"),
    path("handoffs/", handoff_views.handoff_list, name="handoffs"),
    path("companions/tests/", companion_views.companion_tests, name="companion-tests"),
    path("companions/tests/results/", companion_views.companion_tests_results, name="companion-results"),
    path("handoffs/decide/", handoff_views.handoff_decide, name="handoff-decide"),
    path("<int:contact_id>/<slug:decision>/", views.contact_decide, name="decide"),
]
