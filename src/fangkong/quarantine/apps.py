from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QuarantineConfig(AppConfig):
    name = "fangkong.quarantine"
    label = "quarantine"
    verbose_name = _("Quarantine and monitoring")

    def ready(self) -> None:
        from fangkong.cases.signals import case_registered
        from fangkong.people.signals import persons_merging
        from fangkong.quarantine.conversion import on_case_registered
        from fangkong.quarantine.merging import on_persons_merging
        from fangkong.quarantine.work import order_work_check, person_work_check
        from fangkong.worklist.lifecycle import register_check

        register_check("quarantine", order_work_check)
        register_check("people", person_work_check)

        case_registered.connect(on_case_registered, dispatch_uid="quarantine.convert")
        persons_merging.connect(on_persons_merging, dispatch_uid="quarantine.fold")
