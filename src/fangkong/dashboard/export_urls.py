from django.urls import path

from fangkong.dashboard import export_views
from fangkong.dashboard.exports import EXPORTS, FORMATS

# Included at /dashboard/exports/ in the "dashboard" namespace. Each export has a fixed address
# (cases.csv, orders.xlsx, ...): it names no object, so no object is looked up, and an unknown one
# is simply not there (404). Reverse with keywords: {% url 'dashboard:export' kind='cases' fmt='csv' %}.
urlpatterns = [
    path("", export_views.exports_page, name="exports"),
    *(
        path(f"{kind}.{fmt}", export_views.export_download, {"kind": kind, "fmt": fmt}, name="export")
        for kind in EXPORTS
        for fmt in FORMATS
    ),
    path("files/<int:file_id>/", export_views.export_file_page, name="export-file"),
    path("files/<int:file_id>/download", export_views.export_file_download, name="export-file-download"),
]
