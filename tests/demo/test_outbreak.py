from datetime import timedelta

import pytest
from django.utils import timezone

from fangkong.cases.models import Case, ItineraryEntry
from fangkong.contacts.models import Contact
from fangkong.demo.load import demo_load
from fangkong.demo.outbreak import outbreak_load
from fangkong.quarantine.models import QuarantineOrder

pytestmark = pytest.mark.django_db


def test_the_outbreak_is_written_through_the_rules_and_only_once():
    demo_load(residents=3000)
    summary = outbreak_load(max_cases=12)
    waiting = Case.objects.filter(
        classification="suspected", reported_at__gte=timezone.now() - timedelta(hours=7)
    )
    assert waiting.count() >= 3  # reported this morning, awaiting confirmation
    assert all(c.district.code == "440303" for c in waiting.filter(investigation__itinerary__isnull=True))
    assert summary.created and 6 + 3 <= summary.cases <= 12 + 3
    assert not ItineraryEntry.objects.filter(investigation__case__isnull=True).exists()
    assert ItineraryEntry.objects.count() == 3 * (Case.objects.count() - 3)
    close = Contact.objects.filter(kind="close", status="confirmed")
    assert close.exists()
    checked = 0
    for contact in close.select_related("source_case")[:50]:
        assert QuarantineOrder.objects.filter(person=contact.person).exists()
        own = QuarantineOrder.objects.filter(
            contact=contact, last_exposure=contact.last_exposure, follows=None
        ).first()
        if own is not None:  # not extended by a later exposure: day 1 is the day after it
            assert own.day_one == timezone.localdate(contact.last_exposure) + timedelta(days=1)
            checked += 1
    assert checked
    reported = Case.objects.values_list("reported_at", flat=True)
    assert min(reported) >= timezone.now() - timedelta(days=31)
    assert outbreak_load().created is False
    assert Case.objects.count() == summary.cases
