from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TestingConfig(AppConfig):
    name = "fangkong.testing"
    label = "testing"
    verbose_name = _("Mass testing")

    def ready(self) -> None:
        from fangkong.cases.signals import case_registered
        from fangkong.testing.results import on_case_registered
        from fangkong.testing.work import testing_work_check
        from fangkong.worklist.lifecycle import register_check

        case_registered.connect(on_case_registered, dispatch_uid="testing.recall_ends")
        register_check("testing", testing_work_check)
