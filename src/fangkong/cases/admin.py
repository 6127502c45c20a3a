"""Django admin for operators: cases are read-only here; they change only through the services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from fangkong.cases.models import Case, CaseEvent


class CaseEventInline(admin.TabularInline):  # type: ignore[type-arg]
    model = CaseEvent
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "from_value", "to_value", "at", "recorded_at", "actor", "note"]


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin[Case]):
    list_display = ["number", "classification", "severity", "outcome", "district", "reported_at"]
    list_filter = ["classification", "outcome", "origin"]
    search_fields = ["number"]
    exclude = ["person"]
    inlines = [CaseEventInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
