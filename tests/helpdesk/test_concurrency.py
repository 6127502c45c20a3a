"""Two operators press "claim" at the same moment: exactly one wins (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
from django.db import close_old_connections, connection

from fangkong.common.errors import Conflict
from fangkong.helpdesk.models import HelpRequest
from fangkong.helpdesk.services import help_request_claim
from tests.helpdesk.factories import make_request
from tests.orgs.factories import user_with_role

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("rounds", [8])
def test_concurrent_claims_have_one_winner(tree, rounds):
    operators = [user_with_role("hotline", tree.community, username=f"op{i}") for i in range(4)]
    for _ in range(rounds):
        request = make_request(community=tree.community)
        barrier = threading.Barrier(len(operators))
        outcomes: list[str] = []

        def claim(operator, request=request, barrier=barrier, outcomes=outcomes):
            try:
                stale = HelpRequest.objects.get(pk=request.pk)  # every page showed it free
                barrier.wait()
                help_request_claim(actor=operator, request=stale)
                outcomes.append(f"won:{operator.username}")
            except Conflict:
                outcomes.append("lost")
            finally:
                close_old_connections()
                connection.close()

        threads = [threading.Thread(target=claim, args=(op,)) for op in operators]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        winners = [o for o in outcomes if o.startswith("won:")]
        assert len(winners) == 1, outcomes
        assert outcomes.count("lost") == len(operators) - 1
        assert HelpRequest.objects.get(pk=request.pk).claimed_by.username == winners[0][4:]
