from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContactsConfig(AppConfig):
    name = "fangkong.contacts"
    label = "contacts"
    verbose_name = _("Contacts and chains")

    def ready(self) -> None:
        from fangkong.cases.merging import refuse_two_open_cases
        from fangkong.cases.signals import case_registered
        from fangkong.contacts.companions import on_case_registered
        from fangkong.contacts.control import on_items_closed
        from fangkong.contacts.merging import on_persons_merging
        from fangkong.contacts.work import companion_work_check
        from fangkong.people.signals import persons_merging
        from fangkong.worklist.lifecycle import register_check
        from fangkong.worklist.signals import items_closed

        items_closed.connect(on_items_closed, dispatch_uid="contacts.control")
        # the refusal first: a refused merge folds nothing
        persons_merging.connect(refuse_two_open_cases, dispatch_uid="cases.one_open_case")
        persons_merging.connect(on_persons_merging, dispatch_uid="contacts.fold")
        # a companion who became a case is followed no longer
        case_registered.connect(on_case_registered, dispatch_uid="contacts.companions_end")
        register_check("contacts", companion_work_check)
