from django.contrib import admin

from fangkong.worklist.models import WorkItem


@admin.register(WorkItem)
class WorkItemAdmin(admin.ModelAdmin[WorkItem]):
    list_display = ["title", "kind", "org_unit", "assignee", "due_at", "status", "priority"]
    list_filter = ["status", "priority", "kind"]
    search_fields = ["title", "org_unit__code"]
    readonly_fields = ["kind", "org_unit", "subject_type", "subject_id", "done_at"]
