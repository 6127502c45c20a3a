from django.urls import path

from fangkong.testing import lab_views, round_views, scan_views, site_views, views

app_name = "testing"
urlpatterns = [
    path("", round_views.round_list, name="rounds"),
    path("rounds/new/", round_views.round_new, name="round-new"),
    path("sites/", site_views.site_list, name="sites"),
    path("advisor/", round_views.advisor_page, name="advisor"),
    path("rounds/<int:round_id>/", round_views.round_detail, name="round"),
    path("rounds/<int:round_id>/grids/<int:unit_id>/", round_views.untested_page, name="untested"),
    path("rounds/<int:round_id>/grids/<int:unit_id>/act/", round_views.untested_act, name="untested-act"),
    path("scan/", scan_views.scan_home, name="scan"),
    path("scan/tube/", scan_views.tube_open_view, name="tube-open"),
    path("scan/box/", scan_views.box_pack_view, name="box-pack"),
    path("scan/queue/", scan_views.queue_post_view, name="queue-post"),
    path("tubes/<int:tube_id>/", scan_views.tube_page, name="tube"),
    path("tubes/<int:tube_id>/scan/", scan_views.tube_scan_view, name="tube-scan"),
    path("tubes/<int:tube_id>/close/", scan_views.tube_close_view, name="tube-close"),
    path("lab/", lab_views.lab_home, name="lab"),
    path("lab/boxes/", lab_views.box_receive_view, name="box-receive"),
    path("lab/imports/", lab_views.import_upload, name="import-upload"),
    path("lab/imports/<int:tube_import_id>/", lab_views.import_detail, name="import"),
    path("lab/imports/template.csv", lab_views.import_template, name="import-template"),
    path("lab/conflicts/<int:report_id>/", lab_views.conflict_decide, name="conflict"),
    path("recalls/<int:recall_id>/", views.recall_detail, name="recall"),
]
