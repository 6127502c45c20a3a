"""The transmission graph of a cluster: cases linked through the contacts who became cases.

A cluster is the connected component of a case over chain links (contact → became case). Big
clusters are drawn at a coarser level so that the page stays responsive:
- ``people``: every case and every contact (up to ``PEOPLE_LIMIT`` nodes);
- ``cases``: every case, each with one node standing for its contacts (up to ``CASES_LIMIT`` cases);
- ``communities``: one node per community with its case count, edges counting chain links.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from fangkong.cases.models import Case
from fangkong.contacts.models import Contact
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import visible

PEOPLE_LIMIT = 1500
CASES_LIMIT = 800


def _component(actor: Any, case: Case) -> set[int]:
    """The case ids reachable from ``case`` over chain links (either direction), within scope."""
    links = visible(
        actor, Contact.objects.filter(became_case__isnull=False), perm=Perm.CASES_VIEW
    ).values_list("source_case_id", "became_case_id")
    neighbours: dict[int, set[int]] = defaultdict(set)
    for a, b in links:
        neighbours[a].add(b)
        neighbours[b].add(a)
    seen, todo = {case.pk}, [case.pk]
    while todo:
        for other in neighbours[todo.pop()] - seen:
            seen.add(other)
            todo.append(other)
    return seen


def cluster_graph(
    *, actor: Any, case: Case, people_limit: int = PEOPLE_LIMIT, cases_limit: int = CASES_LIMIT
) -> dict[str, Any]:
    """Nodes and links of the cluster of ``case`` for ECharts, at the finest level that fits."""
    ids = _component(actor, case)
    cases = list(
        visible(actor, Case.objects.filter(pk__in=ids), perm=Perm.CASES_VIEW).values(
            "pk", "number", "classification", "org_unit__path"
        )
    )
    contacts = list(
        visible(actor, Contact.objects.filter(source_case_id__in=ids), perm=Perm.CASES_VIEW).values_list(
            "pk", "source_case_id", "became_case_id", "kind", "status", "via_contact_id"
        )
    )
    chain = [(c[1], c[2]) for c in contacts if c[2] is not None]
    drawn = {c[0] for c in contacts if c[2] is None}
    nodes: list[dict[str, Any]]
    links: list[dict[str, Any]]
    if len(cases) + len(contacts) <= people_limit:
        level = "people"
        nodes = [_case_node(c, root=case.pk) for c in cases]
        nodes += [
            {"id": f"p{pk}", "name": "", "category": f"contact_{kind}", "symbolSize": 6, "value": status}
            for pk, _src, became, kind, status, _via in contacts
            if became is None
        ]
        # a secondary contact hangs off the close contact it came through (when that one is drawn)
        links = [
            {"source": f"p{via}" if via in drawn else f"c{src}", "target": f"p{pk}"}
            for pk, src, became, _k, _s, via in contacts
            if became is None
        ]
        links += [{"source": f"c{a}", "target": f"c{b}"} for a, b in chain]
    elif len(cases) <= cases_limit:
        level = "cases"
        counts = Counter(src for _pk, src, became, _k, _s, _v in contacts if became is None)
        nodes = [_case_node(c, root=case.pk) for c in cases]
        nodes += [
            {
                "id": f"g{src}",
                "name": str(n),
                "category": "contacts",
                "symbolSize": min(40, 4 + n**0.5 * 3),
                "value": n,
            }
            for src, n in counts.items()
        ]
        links = [{"source": f"c{src}", "target": f"g{src}"} for src in counts]
        links += [{"source": f"c{a}", "target": f"c{b}"} for a, b in chain]
    else:
        level = "communities"
        community = {c["pk"]: c["org_unit__path"].rstrip("/").rsplit("/", 1)[0] for c in cases}
        sizes = Counter(community.values())
        nodes = [
            {
                "id": path,
                "name": path.rsplit("/", 1)[-1],
                "category": "community",
                "value": n,
                "symbolSize": min(60, 6 + n**0.5 * 4),
            }
            for path, n in sizes.items()
        ]
        weights = Counter((community[a], community[b]) for a, b in chain if a in community and b in community)
        links = [{"source": a, "target": b, "value": str(n)} for (a, b), n in weights.items() if a != b]
    return {
        "level": level,
        "cases": len(cases),
        "contacts": len(contacts),
        "nodes": nodes,
        "links": links,
    }


def _case_node(row: Any, *, root: int) -> dict[str, Any]:
    return {
        "id": f"c{row['pk']}",
        "name": row["number"],
        "category": row["classification"],
        "symbolSize": 18 if row["pk"] == root else 12,
        "caseId": row["pk"],
    }
