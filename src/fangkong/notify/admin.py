from django.contrib import admin

from fangkong.common.admin import ReadOnlyAdmin
from fangkong.notify.models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    """Read-only: messages change only through the services and the sender (audited)."""

    list_display = ["created_at", "template", "phone_masked", "status", "provider", "org_unit", "sent_at"]
    list_filter = ["status", "template", "provider"]
    exclude = ["phone_cipher", "phone_index", "claim"]
