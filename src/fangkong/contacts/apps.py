from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContactsConfig(AppConfig):
    name = "fangkong.contacts"
    label = "contacts"
    verbose_name = _("Contacts and chains")

    def ready(self) -> None:
        from fangkong.contacts.control import on_item_closed
        from fangkong.worklist.signals import item_closed

        item_closed.connect(on_item_closed, dispatch_uid="contacts.control")
