from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContactsConfig(AppConfig):
    name = "fangkong.contacts"
    label = "contacts"
    verbose_name = _("Contacts and chains")

    def ready(self) -> None:
        from fangkong.cases.merging import refuse_two_open_cases
        from fangkong.contacts.control import on_items_closed
        from fangkong.contacts.merging import on_persons_merging
        from fangkong.people.signals import persons_merging
        from fangkong.worklist.signals import items_closed

        items_closed.connect(on_items_closed, dispatch_uid="contacts.control")
        # the refusal first: a refused merge folds nothing
        persons_merging.connect(refuse_two_open_cases, dispatch_uid="cases.one_open_case")
        persons_merging.connect(on_persons_merging, dispatch_uid="contacts.fold")
