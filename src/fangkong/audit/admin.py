from django.contrib import admin

from fangkong.audit.models import AuditEvent
from fangkong.common.admin import ReadOnlyAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Read-only: the trail is only ever added to."""

    list_display = ["at", "actor", "action", "target_type", "target_id", "org_unit", "ip"]
    list_filter = ["action"]
    search_fields = ["target_id", "actor__username"]
