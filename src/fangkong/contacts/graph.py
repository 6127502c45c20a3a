"""The transmission graph of a cluster: cases linked through the contacts who became cases.

A cluster is the connected component of a case over chain links (contact → became case). What is
drawn of the contacts:
- confirmed (and handed-off) contacts as contacts; proposals apart from them (``proposed``: the
  page draws them dashed and lighter, behind a legend toggle with their count);
- spatiotemporal companions (时空伴随者) not at all: each case carries their count;
- dismissed proposals not at all.

Big clusters are drawn at a coarser level so that the page stays readable and responsive:
- ``people``: every case and every contact drawn (up to ``PEOPLE_LIMIT`` nodes);
- ``cases``: every case, each with one node standing for its contacts and one for its proposals
  (up to ``CASES_LIMIT`` cases: at most three nodes a case);
- ``communities``: one node per community with its case count, edges counting chain links.

The case the reviewer came from (``origin``, else the page's own case) is flagged on its node
(``origin: true``) and named in the answer, at every level.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from fangkong.cases.models import Case
from fangkong.contacts.models import Contact, ContactKind, ContactStatus
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import visible

PEOPLE_LIMIT = 400
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
    *,
    actor: Any,
    case: Case,
    origin_id: int | None = None,
    people_limit: int = PEOPLE_LIMIT,
    cases_limit: int = CASES_LIMIT,
) -> dict[str, Any]:
    """Nodes and links of the cluster of ``case`` for ECharts, at the finest level that fits;
    ``origin_id`` (a case of the cluster) is the case to highlight, else ``case``."""
    ids = _component(actor, case)
    origin = origin_id if origin_id in ids else case.pk
    cases = list(
        visible(actor, Case.objects.filter(pk__in=ids), perm=Perm.CASES_VIEW)
        .values("pk", "number", "classification", "org_unit__path")
        .order_by("reported_at", "pk")
    )
    rows = list(
        visible(actor, Contact.objects.filter(source_case_id__in=ids), perm=Perm.CASES_VIEW)
        .exclude(status=ContactStatus.DISMISSED)
        .values_list("pk", "source_case_id", "became_case_id", "kind", "status", "via_contact_id")
    )
    companions = Counter(src for _pk, src, _b, kind, _s, _v in rows if kind == ContactKind.COMPANION)
    contacts = [r for r in rows if r[3] != ContactKind.COMPANION]
    chain = [(src, became) for _pk, src, became, *_rest in contacts if became is not None]
    leaves = [r for r in contacts if r[2] is None]  # a contact who became a case is drawn as that case
    proposals = sum(status == ContactStatus.PROPOSED for *_h, status, _v in contacts)
    nodes: list[dict[str, Any]]
    links: list[dict[str, Any]]
    if len(cases) + len(leaves) <= people_limit:
        level = "people"
        drawn = {r[0] for r in leaves}
        nodes = [_case_node(c, origin=origin, companions=companions) for c in cases]
        nodes += [
            {
                "id": f"p{pk}",
                "name": "",
                "category": "proposal" if status == ContactStatus.PROPOSED else f"contact_{kind}",
                "symbolSize": 6,
                "value": status,
                "proposed": status == ContactStatus.PROPOSED,
            }
            for pk, _src, _became, kind, status, _via in leaves
        ]
        # a secondary contact hangs off the close contact it came through (when that one is drawn)
        links = [
            _contact_link(
                f"p{via}" if via in drawn else f"c{src}", f"p{pk}", status == ContactStatus.PROPOSED
            )
            for pk, src, _became, _kind, status, via in leaves
        ]
    elif len(cases) <= cases_limit:
        level = "cases"
        confirmed = Counter(
            src for _pk, src, _b, _k, status, _v in leaves if status != ContactStatus.PROPOSED
        )
        proposed = Counter(src for _pk, src, _b, _k, status, _v in leaves if status == ContactStatus.PROPOSED)
        nodes = [_case_node(c, origin=origin, companions=companions) for c in cases]
        links = []
        for prefix, counts, category in (("g", confirmed, "contacts"), ("q", proposed, "proposals")):
            nodes += [
                {
                    "id": f"{prefix}{src}",
                    "name": str(n),
                    "category": category,
                    "symbolSize": min(30, 4 + n**0.5 * 2),
                    "value": n,
                    "proposed": prefix == "q",
                }
                for src, n in counts.items()
            ]
            links += [_contact_link(f"c{src}", f"{prefix}{src}", prefix == "q") for src in counts]
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
                "origin": path == community.get(origin),
            }
            for path, n in sizes.items()
        ]
        weights = Counter((community[a], community[b]) for a, b in chain if a in community and b in community)
        links = [{"source": a, "target": b, "value": str(n)} for (a, b), n in weights.items() if a != b]
    if level != "communities":
        shown = {c["pk"] for c in cases}
        links += [
            {"source": f"c{a}", "target": f"c{b}", "chain": True}
            for a, b in chain
            if a in shown and b in shown
        ]
    return {
        "level": level,
        "origin": f"c{origin}",
        "cases": len(cases),
        "contacts": len(contacts) - proposals,
        "proposals": proposals,
        "companions": sum(companions.values()),
        "nodes": nodes,
        "links": links,
    }


def _contact_link(source: str, target: str, proposed: bool) -> dict[str, Any]:
    return {"source": source, "target": target, "proposed": proposed}


def _case_node(row: Any, *, origin: int, companions: Counter[int]) -> dict[str, Any]:
    return {
        "id": f"c{row['pk']}",
        "name": row["number"],
        "category": row["classification"],
        "symbolSize": 22 if row["pk"] == origin else 12,
        "caseId": row["pk"],
        "origin": row["pk"] == origin,
        "companions": companions.get(row["pk"], 0),
    }
