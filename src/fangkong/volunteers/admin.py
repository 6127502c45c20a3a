"""Django admin for operators: read-only (every change goes through the audited services)."""

from __future__ import annotations

from django.contrib import admin

from fangkong.common.admin import ReadOnlyAdmin
from fangkong.volunteers.models import Commendation, Dispatch, Volunteer


@admin.register(Volunteer)
class VolunteerAdmin(ReadOnlyAdmin):
    list_display = ("masked_name", "phone_masked", "org_unit", "status", "created_at")
    list_filter = ("status",)
    exclude = ("name",)


@admin.register(Dispatch)
class DispatchAdmin(ReadOnlyAdmin):
    list_display = ("id", "volunteer", "work_item", "status", "hours", "dispatched_at")
    list_filter = ("status",)


@admin.register(Commendation)
class CommendationAdmin(ReadOnlyAdmin):
    list_display = ("volunteer", "commended_on", "published")
    list_filter = ("published",)
