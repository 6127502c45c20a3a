"""How a row of a lab's result file finds its tests: the row-key resolvers.

A resolver reads, in a constant number of queries, the orders the rows name (by the order number
shown on the staff pages, or by the person's ID number); the mass-testing importer adds a tube
barcode resolver (one tube, many people) to ``RESOLVERS`` without touching the rest.
"""

from __future__ import annotations

import unicodedata
from typing import Any, Protocol

from django.utils.translation import gettext as _

from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import visible
from fangkong.people.idnumbers import normalize_document
from fangkong.people.models import Person
from fangkong.people.services import id_index
from fangkong.people.spreadsheets import id_type_of
from fangkong.quarantine.models import QuarantineOrder


def plain_text(raw: str) -> str:
    """Full-width digits and letters made plain; NUL and other control characters dropped."""
    text = unicodedata.normalize("NFKC", raw)
    return "".join(ch for ch in text if ch.isprintable()).strip()


class RowError(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


# --- row keys ------------------------------------------------------------------------------------


class RowKeyResolver(Protocol):
    """Maps a row to the orders it is about (the test date then picks each order's test)."""

    field: str

    def prepare(self, *, actor: Any, rows: list[dict[str, str]]) -> None:
        """Read, in a constant number of queries, what the rows name."""

    def resolve(self, values: dict[str, str]) -> list[QuarantineOrder]:
        """The orders of the row; ``RowError`` when the key names nothing the actor may change."""

    def orders(self) -> list[QuarantineOrder]:
        """Every order that ``prepare`` found (their tests are read at once)."""


def _orders(actor: Any) -> Any:
    return visible(actor, QuarantineOrder.objects.all(), perm=Perm.QUARANTINE_CHANGE)


class OrderNumberResolver:
    """The order number (隔离令编号) shown on the tests-due and order pages."""

    field = "order"

    def __init__(self) -> None:
        self.found: dict[int, QuarantineOrder] = {}

    def prepare(self, *, actor: Any, rows: list[dict[str, str]]) -> None:
        numbers = {
            int(v) for v in (plain_text(r.get("order", "")) for r in rows) if v.isdigit() and len(v) <= 12
        }
        for chunk in chunks(sorted(numbers)):
            self.found.update(_orders(actor).filter(pk__in=chunk).in_bulk())

    def resolve(self, values: dict[str, str]) -> list[QuarantineOrder]:
        text = plain_text(values.get("order", ""))
        order = self.found.get(int(text)) if text.isdigit() and len(text) <= 12 else None
        if order is None:
            raise RowError(
                "order", _("Unknown order number “%(n)s”, or not in your area.") % {"n": text[:20]}
            )
        return [order]

    def orders(self) -> list[QuarantineOrder]:
        return list(self.found.values())


class IdNumberResolver:
    """The person's document (证件类型 + 证件号码; resident ID when the type is left out)."""

    field = "id_number"

    def __init__(self) -> None:
        self.by_key: dict[tuple[str, str], list[QuarantineOrder]] = {}

    @staticmethod
    def _key(values: dict[str, str]) -> tuple[str, str]:
        id_type = id_type_of(plain_text(values.get("id_type", "")))
        number = normalize_document(values.get("id_number", ""))[:40]
        return id_type, id_index(id_type=id_type, number=number)

    def prepare(self, *, actor: Any, rows: list[dict[str, str]]) -> None:
        keys = {self._key(r) for r in rows if plain_text(r.get("id_number", ""))}
        for chunk in chunks(sorted(keys)):
            people = Person.objects.filter(
                id_number_index__in=[i for _t, i in chunk], merged_into__isnull=True
            )
            orders = (
                _orders(actor).filter(person__in=people).select_related("person").order_by("day_one", "id")
            )
            for order in orders:
                key = (order.person.id_type, order.person.id_number_index)
                self.by_key.setdefault(key, []).append(order)

    def resolve(self, values: dict[str, str]) -> list[QuarantineOrder]:
        orders = self.by_key.get(self._key(values))
        if not orders:
            raise RowError("id_number", _("No quarantine order in your area for this ID number."))
        return orders

    def orders(self) -> list[QuarantineOrder]:
        return [order for orders in self.by_key.values() for order in orders]


RESOLVERS: tuple[type[RowKeyResolver], ...] = (
    OrderNumberResolver,
    IdNumberResolver,
)


def chunks(values: list[Any], size: int = 500) -> list[list[Any]]:
    return [values[i : i + size] for i in range(0, len(values), size)]
