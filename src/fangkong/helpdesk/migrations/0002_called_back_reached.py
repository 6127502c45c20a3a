"""``HelpRequest.called_back_at`` is now the earliest call that reached the resident (it was the
first call of any outcome): recompute it from the call log for the requests already stored."""

from django.db import migrations
from django.db.models import OuterRef, Subquery

REACHED = "reached"  # helpdesk.models.Outcome.REACHED, written out: a migration keeps its own values


def called_back_recompute(apps, schema_editor):
    """One UPDATE: each request's earliest ``reached`` call, NULL when no call reached."""
    HelpRequest = apps.get_model("helpdesk", "HelpRequest")
    CallLog = apps.get_model("helpdesk", "CallLog")
    alias = schema_editor.connection.alias
    earliest = (
        CallLog.objects.using(alias)
        .filter(request=OuterRef("pk"), outcome=REACHED)
        .order_by("called_at", "pk")
        .values("called_at")[:1]
    )
    HelpRequest.objects.using(alias).update(called_back_at=Subquery(earliest))


class Migration(migrations.Migration):
    dependencies = [
        ("helpdesk", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(called_back_recompute, migrations.RunPython.noop, elidable=True),
    ]
