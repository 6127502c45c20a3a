from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "fangkong.cases"
    label = "cases"
    verbose_name = _("Cases")

    def ready(self) -> None:
        from fangkong.cases.work import case_work_check
        from fangkong.worklist.lifecycle import register_check

        register_check("cases", case_work_check)
