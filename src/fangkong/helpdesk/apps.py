from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HelpdeskConfig(AppConfig):
    name = "fangkong.helpdesk"
    label = "helpdesk"
    verbose_name = _("Help desk")

    def ready(self) -> None:
        from fangkong.helpdesk.work import help_work_check
        from fangkong.worklist.lifecycle import register_check

        register_check("helpdesk", help_work_check)
