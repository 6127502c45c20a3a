"""Repair existing databases once: end the open items whose subject no longer needs them and make
the missing ones, by the rules of ``fangkong check-work`` (``worklist.lifecycle``).

It runs the checks of the code it ships with; on a new database (no work items yet) it does nothing,
so later changes to the models cannot break it there.
"""

from typing import Any

from django.db import migrations


def repair(apps: Any, schema_editor: Any) -> None:
    if not apps.get_model("worklist", "WorkItem").objects.exists():
        return
    from fangkong.worklist.lifecycle import work_check, work_fix

    work_fix(actor=None, findings=work_check())


class Migration(migrations.Migration):
    dependencies = [
        ("worklist", "0003_open_items"),
        ("cases", "0003_dashboard_indexes"),
        ("contacts", "0004_controlled_at"),
        ("people", "0003_alter_personimport_created_count"),
        ("quarantine", "0002_order_in_room"),
        ("helpdesk", "0001_initial"),
    ]

    operations = [migrations.RunPython(repair, migrations.RunPython.noop)]
