from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "fangkong.portal"
    label = "portal"
    verbose_name = _("Public portal")

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from fangkong.orgs.models import OrgUnit
        from fangkong.portal.cache import on_org_unit_saved

        # unit names are on the public pages (risk areas, the help form's address)
        post_save.connect(on_org_unit_saved, sender=OrgUnit, dispatch_uid="portal.org_unit_saved")
