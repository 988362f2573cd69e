"""OpenAPI links: what a client can do next with the object an answer returns.

A drf-spectacular post-processing hook adds, to the answers that create or show a case, a
promise, a hand-off or an absence, links to the operations that take that object's id (the
case's ``ref`` into its promises, hand-offs, notes and contacts; a promise's ``id`` into keep,
renegotiate and withdraw; …). Generated clients and schema-driven tools (stateful API
testing) follow them to chain calls on real objects.
"""

from __future__ import annotations

from typing import Any

_CASE = {"ref": "$response.body#/ref"}
_CASE_NEXT = [
    "cases_retrieve",
    "cases_partial_update",
    "case_commitments_list",
    "case_commitments_create",
    "cases_handoffs_list",
    "cases_handoffs_create",
    "cases_notes_create",
    "cases_contacts_list",
    "cases_contacts_create",
    "cases_customer_link_revoke",
]
_CUSTOMER = {"customer_id": "$response.body#/customer/id"}
_CUSTOMER_NEXT = ["customers_retrieve", "customers_partial_update"]
_PROMISE = {"id": "$response.body#/id"}
_PROMISE_NEXT = [
    "commitment_keep",
    "commitment_renegotiate",
    "commitment_withdraw",
    "commitment_confirm_on_track",
]
_HANDOFF = {"handoff_id": "$response.body#/id"}
_HANDOFF_NEXT = ["handoffs_accept", "handoffs_decline", "handoffs_cancel", "handoffs_review"]
_ABSENCE = {"agent_id": "$request.path.agent_id", "absence_id": "$response.body#/id"}

# operationId → {status: [(operationId to link, parameters)]}
LINKS: dict[str, dict[str, list[tuple[str, dict[str, str]]]]] = {
    "cases_create": {
        "201": [(op, _CASE) for op in _CASE_NEXT] + [(op, _CUSTOMER) for op in _CUSTOMER_NEXT],
    },
    "cases_retrieve": {
        "200": [(op, _CASE) for op in _CASE_NEXT if op != "cases_retrieve"]
        + [(op, _CUSTOMER) for op in _CUSTOMER_NEXT],
    },
    "case_commitments_create": {"201": [(op, _PROMISE) for op in _PROMISE_NEXT]},
    "commitment_renegotiate": {"201": [(op, _PROMISE) for op in _PROMISE_NEXT]},
    "cases_handoffs_create": {"201": [(op, _HANDOFF) for op in _HANDOFF_NEXT]},
    "agents_absences_create": {"201": [("agents_absences_end", _ABSENCE)]},
}


def _link_name(operation_id: str) -> str:
    return "".join(part.capitalize() for part in operation_id.split("_"))


def add_links(result: dict, generator: Any, request: Any, public: bool) -> dict:
    """drf-spectacular post-processing hook: the ``links`` of ``LINKS`` on their answers
    (only between operations the schema has)."""
    operations = {
        op["operationId"]: op
        for path_item in result.get("paths", {}).values()
        for op in path_item.values()
        if isinstance(op, dict) and "operationId" in op
    }
    for source, answers in LINKS.items():
        if source not in operations:
            continue
        for status, targets in answers.items():
            response = operations[source]["responses"].get(status)
            if response is None:
                continue
            links = response.setdefault("links", {})
            for target, parameters in targets:
                if target in operations:
                    links[_link_name(target)] = {"operationId": target, "parameters": parameters}
    return result
