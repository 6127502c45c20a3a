from datetime import date, timedelta

import pytest
from django.utils import timezone

from fangkong.audit.models import AuditEvent
from fangkong.cases.models import Case, CaseEvent
from fangkong.cases.services import (
    CaseDetails,
    case_classify,
    case_register,
    case_set_outcome,
    case_set_severity,
)
from fangkong.common.errors import Conflict, Forbidden, Invalid
from fangkong.worklist.models import WorkItem
from tests.cases.factories import make_case
from tests.orgs.factories import user_with_role
from tests.people.factories import make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def epi(tree, epidemiologist):
    return epidemiologist


def test_register_numbers_per_district_and_year_and_opens_the_investigation_work(tree, epi):
    first = make_case(actor=epi, grid=tree.grid_a)
    second = make_case(actor=epi, grid=tree.grid_b)
    year = timezone.localdate().year
    assert first.number == f"{tree.district.code}-{year}-0001"
    assert second.number == f"{tree.district.code}-{year}-0002"
    assert first.district == tree.district and first.org_unit == tree.grid_a
    item = WorkItem.objects.get(kind="case.investigate", subject_id=str(first.pk))
    assert item.org_unit == tree.district and item.priority == "urgent"
    assert item.due_at == first.reported_at + timedelta(hours=24)  # china-9: within 24 h of the report
    assert first.investigation.started_at is None


def test_the_protocol_sets_the_investigation_deadline(tree, epi, settings):
    settings.FANGKONG_PROTOCOL = "who-2021"
    case = make_case(actor=epi, grid=tree.grid_a)
    item = WorkItem.objects.get(kind="case.investigate", subject_id=str(case.pk))
    assert item.due_at == case.reported_at + timedelta(hours=24)


def test_a_person_cannot_be_two_open_cases(tree, epi):
    case = make_case(actor=epi, grid=tree.grid_a)
    with pytest.raises(Conflict, match=case.number):
        make_case(actor=epi, grid=tree.grid_a, person=case.person)
    case_classify(actor=epi, case=case, to="excluded", at=timezone.now())
    assert make_case(actor=epi, grid=tree.grid_a, person=case.person).number != case.number


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        (["confirmed"], True),
        (["asymptomatic"], True),
        (["excluded"], True),
        (["asymptomatic", "confirmed"], True),
        (["confirmed", "asymptomatic"], False),
        (["confirmed", "excluded"], False),
        (["excluded", "confirmed"], False),
        (["asymptomatic", "excluded"], False),
        (["confirmed", "suspected"], False),
    ],
)
def test_classification_moves(tree, epi, path, allowed):
    case = make_case(actor=epi, grid=tree.grid_a)
    for step in path[:-1]:
        case = case_classify(actor=epi, case=case, to=step, at=timezone.now())
    before = Case.objects.get(pk=case.pk)
    if allowed:
        case = case_classify(actor=epi, case=case, to=path[-1], at=timezone.now())
        assert case.classification == path[-1]
    else:
        with pytest.raises(Conflict) as error:
            case_classify(actor=epi, case=case, to=path[-1], at=timezone.now())
        after = Case.objects.get(pk=case.pk)
        assert (after.classification, after.updated_at) == (before.classification, before.updated_at)
        assert error.value.status == 409


def test_the_refusal_names_both_states(tree, epi):
    from django.utils import translation

    case = make_case(actor=epi, grid=tree.grid_a, classification="confirmed")
    with translation.override("en"), pytest.raises(Conflict) as error:
        case_classify(actor=epi, case=case, to="excluded", at=timezone.now())
    assert error.value.message == "Cannot change a case from Confirmed to Excluded."


def test_confirming_times_the_move_and_writes_the_timeline(tree, epi):
    case = make_case(actor=epi, grid=tree.grid_a, hours_ago=5)
    at = timezone.now() - timedelta(hours=1)
    case_classify(actor=epi, case=case, to="confirmed", at=at, severity="moderate")
    case.refresh_from_db()
    assert (case.confirmed_at, case.severity) == (at, "moderate")
    kinds = list(CaseEvent.objects.filter(case=case).values_list("kind", "from_value", "to_value"))
    assert kinds == [("register", "", "suspected"), ("classification", "suspected", "confirmed")]
    assert AuditEvent.objects.filter(action="cases.case.classification", target_id=str(case.pk)).count() == 1


def test_a_move_cannot_predate_the_report(tree, epi):
    case = make_case(actor=epi, grid=tree.grid_a, hours_ago=1)
    with pytest.raises(Invalid):
        case_classify(actor=epi, case=case, to="confirmed", at=case.reported_at - timedelta(minutes=1))


def test_outcomes(tree, epi):
    case = make_case(actor=epi, grid=tree.grid_a, classification="confirmed")
    case_set_outcome(actor=epi, case=case, outcome="recovered", at=timezone.now())
    with pytest.raises(Conflict):
        case_set_outcome(actor=epi, case=case, outcome="deceased", at=timezone.now())
    excluded = make_case(actor=epi, grid=tree.grid_b)
    case_classify(actor=epi, case=excluded, to="excluded", at=timezone.now())
    with pytest.raises(Conflict):
        case_set_outcome(actor=epi, case=excluded, outcome="recovered", at=timezone.now())


def test_severity_only_for_confirmed(tree, epi):
    case = make_case(actor=epi, grid=tree.grid_a)
    with pytest.raises(Conflict):
        case_set_severity(actor=epi, case=case, severity="severe", at=timezone.now())
    case_classify(actor=epi, case=case, to="confirmed", at=timezone.now())
    assert case_set_severity(actor=epi, case=case, severity="severe", at=timezone.now()).severity == "severe"


def test_details_are_checked(tree, epi):
    person = make_person(actor=epi, grid=tree.grid_a)
    now = timezone.now()
    with pytest.raises(Invalid) as error:
        case_register(
            actor=epi,
            person=person,
            classification="suspected",
            reported_at=now,
            details=CaseDetails(
                origin="mars", onset_date=date.today() + timedelta(days=2), hospital="院" * 101
            ),
        )
    assert set(error.value.errors) == {"origin", "onset_date", "hospital"}
    assert Case.objects.count() == 0
    with pytest.raises(Invalid):
        case_register(actor=epi, person=person, classification="excluded", reported_at=now)


def test_grid_workers_see_but_do_not_register_cases(tree, grid_worker, epi):
    person = make_person(actor=grid_worker, grid=tree.grid_a)
    with pytest.raises(Forbidden):
        case_register(
            actor=grid_worker, person=person, classification="suspected", reported_at=timezone.now()
        )


def test_another_district_cannot_change_the_case(tree, epi):
    case = make_case(actor=epi, grid=tree.grid_a)
    stranger = user_with_role("epidemiologist", tree.other_district)
    with pytest.raises(Forbidden):
        case_classify(actor=stranger, case=case, to="confirmed", at=timezone.now())
