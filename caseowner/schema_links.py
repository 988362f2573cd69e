"""OpenAPI links: what a client can do next with the object an answer returns.

A drf-spectacular post-processing hook adds, to the answers that create or show a case, a
promise, a hand-off or an absence, links to the operations that take that object's id (the
case's ``ref`` into its promises, hand-offs, notes and contacts; a promise's ``id`` into keep,
renegotiate and withdraw; …). Generated clients and schema-driven tools (stateful API
testing) follow them to chain calls on real objects.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured

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


def link_operations(result: dict, links: dict[str, dict[str, list[tuple[str, dict]]]]) -> dict:
    """Add ``links`` to the schema ``result``. Every operation and answer they name must be
    in it: a renamed operation id would otherwise drop its links without a word, so it stops
    the schema's generation with the names that are missing."""
    operations = {
        op["operationId"]: op
        for path_item in result.get("paths", {}).values()
        for op in path_item.values()
        if isinstance(op, dict) and "operationId" in op
    }
    missing = sorted(
        {source for source in links if source not in operations}
        | {
            target
            for answers in links.values()
            for targets in answers.values()
            for target, _ in targets
            if target not in operations
        }
    )
    if missing:
        raise ImproperlyConfigured(
            "OpenAPI links name operations the schema does not have: " + ", ".join(missing)
        )
    for source, answers in links.items():
        for status, targets in answers.items():
            response = operations[source]["responses"].get(status)
            if response is None:
                raise ImproperlyConfigured(
                    f"OpenAPI links: operation {source} documents no {status} answer"
                )
            response_links = response.setdefault("links", {})
            for target, parameters in targets:
                response_links[_link_name(target)] = {
                    "operationId": target,
                    "parameters": parameters,
                }
    return result


def add_links(result: dict, generator: Any, request: Any, public: bool) -> dict:
    """drf-spectacular post-processing hook: the ``links`` of ``LINKS`` on their answers."""
    return link_operations(result, LINKS)
