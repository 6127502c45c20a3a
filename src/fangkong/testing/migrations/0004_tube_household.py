from django.db import migrations, models


def households_mark(apps, schema_editor):
    """Pooled tubes opened in a sealed area at a size other than the area's pool size were household
    tubes (the rule the scan used to work out each time)."""
    RoundArea = apps.get_model("testing", "RoundArea")
    Tube = apps.get_model("testing", "Tube")
    for area in RoundArea.objects.filter(level="sealed").select_related("org_unit"):
        Tube.objects.filter(
            round_id=area.round_id, kind="pool", site__org_unit__path__startswith=area.org_unit.path
        ).exclude(capacity=area.pool_size).update(household=True)


class Migration(migrations.Migration):
    dependencies = [
        ("testing", "0003_swab_grid"),
    ]

    operations = [
        migrations.AddField(
            model_name="tube",
            name="household",
            field=models.BooleanField(default=False, verbose_name="one household"),
        ),
        migrations.RunPython(households_mark, migrations.RunPython.noop),
    ]
