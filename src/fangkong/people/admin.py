"""Django admin for operators: people are read-only here (PII stays masked); edit in the staff UI."""

from __future__ import annotations

from django.contrib import admin

from fangkong.common.admin import ReadOnlyAdmin
from fangkong.people.models import Household, Person


@admin.register(Person)
class PersonAdmin(ReadOnlyAdmin):
    list_display = ["id", "__str__", "id_type", "phone_masked", "org_unit", "merged_into"]
    list_filter = ["id_type", "sex"]
    exclude = ["name"]
    readonly_fields = [
        "id_type",
        "id_number_masked",
        "phone_masked",
        "sex",
        "org_unit",
        "household",
        "merged_into",
    ]


@admin.register(Household)
class HouseholdAdmin(ReadOnlyAdmin):
    list_display = ["id", "org_unit", "building", "unit", "room"]
    search_fields = ["org_unit__code"]
