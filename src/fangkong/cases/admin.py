"""Django admin for operators: cases are read-only here; they change only through the services."""

from __future__ import annotations

from django.contrib import admin

from fangkong.cases.models import Case, CaseEvent
from fangkong.common.admin import ReadOnlyAdmin


class CaseEventInline(admin.TabularInline):  # type: ignore[type-arg]
    model = CaseEvent
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "from_value", "to_value", "at", "recorded_at", "actor", "note"]


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ["number", "classification", "severity", "outcome", "district", "reported_at"]
    list_filter = ["classification", "outcome", "origin"]
    search_fields = ["number"]
    exclude = ["person"]
    inlines = [CaseEventInline]
