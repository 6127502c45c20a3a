"""Django admin for operators: the tree, memberships, tokens (revoke only), users (with the
second factor's reset)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from fangkong.audit.services import audit_record
from fangkong.orgs.models import ApiToken, Membership, OrgUnit
from fangkong.orgs.second_factor import second_factor_reset
from fangkong.orgs.services import child_level, unit_path


class MembershipInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(OrgUnit)
class OrgUnitAdmin(admin.ModelAdmin[OrgUnit]):
    list_display = ["code", "name", "level", "parent", "path"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["parent"]
    readonly_fields = ["level", "path", "depth"]
    inlines = [MembershipInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        """Code and parent are fixed once created: every descendant's path is built from them."""
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "code", "parent"] if obj is not None else fields

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        """Memberships edited inline are audited like any other grant or removal."""
        super().save_formset(request, form, formset, change)
        for membership in formset.new_objects + [obj for obj, _fields in formset.changed_objects]:
            audit_record(actor=request.user, action="orgs.membership.admin_save", target=membership)
        for membership in formset.deleted_objects:
            audit_record(
                actor=request.user,
                action="orgs.membership.admin_delete",
                target=membership,
                org_unit=membership.org_unit,
            )

    def save_model(self, request: HttpRequest, obj: OrgUnit, form: Any, change: bool) -> None:
        """Level and path follow from the parent, as in ``org_unit_create``."""
        obj.level = child_level(obj.parent)
        obj.path = unit_path(code=obj.code, parent=obj.parent)
        obj.depth = obj.parent.depth + 1 if obj.parent else 0
        super().save_model(request, obj, form, change)
        audit_record(actor=request.user, action="orgs.unit.admin_save", target=obj)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin[Membership]):
    list_display = ["user", "role", "org_unit"]
    list_filter = ["role"]
    search_fields = ["user__username", "org_unit__name", "org_unit__code"]
    autocomplete_fields = ["user", "org_unit"]

    def save_model(self, request: HttpRequest, obj: Membership, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        audit_record(actor=request.user, action="orgs.membership.admin_save", target=obj)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    list_display = ["name", "user", "prefix", "expires_at", "last_used_at", "revoked_at"]
    readonly_fields = ["user", "name", "prefix", "expires_at", "last_used_at"]
    search_fields = ["user__username", "name", "prefix"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


# django-otp's own device admins show keys and QR codes and delete without an audit trail: an
# operator resets a user's second factor with the action below (or ``fangkong second_factor_reset``).
for device_model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(device_model):
        admin.site.unregister(device_model)

User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class FangkongUserAdmin(UserAdmin):  # type: ignore[type-arg]
    actions = ["reset_second_factor"]

    @admin.action(
        description=gettext_lazy("Reset the second factor (lost phone) of the selected users"),
        permissions=["change"],
    )
    def reset_second_factor(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        """Each user's authenticator and recovery codes go, audited one by one."""
        for user in queryset:
            second_factor_reset(actor=request.user, user=user)  # type: ignore[arg-type]
        self.message_user(
            request,
            _("Second factor reset for %(n)d users; they set it up again at their next login.")
            % {"n": queryset.count()},
            messages.SUCCESS,
        )
