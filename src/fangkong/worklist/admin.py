from django.contrib import admin

from fangkong.worklist.models import WorkItem


@admin.register(WorkItem)
class WorkItemAdmin(admin.ModelAdmin[WorkItem]):
    list_display = ["title", "kind", "org_unit", "assignee", "due_at", "status", "priority"]
    list_filter = ["status", "priority", "kind"]
    search_fields = ["title", "org_unit__code"]
    # the status moves only through the services (done, cancelled), which keep what depends on it
    readonly_fields = ["kind", "org_unit", "subject_type", "subject_id", "status", "done_at"]
