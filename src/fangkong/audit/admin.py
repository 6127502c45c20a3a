from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from fangkong.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin[AuditEvent]):
    """Read-only: the trail is only ever added to."""

    list_display = ["at", "actor", "action", "target_type", "target_id", "org_unit", "ip"]
    list_filter = ["action"]
    search_fields = ["target_id", "actor__username"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
