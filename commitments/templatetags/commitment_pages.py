"""The promises panel of the case page, rendered from the commitments app so that the
``cases`` code never imports ``commitments`` (the template loads this library instead)."""

from __future__ import annotations

from typing import Any

from django import template

from commitments.forms import CommitmentForm, RenegotiateForm, WithdrawForm

register = template.Library()


@register.inclusion_tag("commitments/_panel.html", takes_context=True)
def commitment_panel(context: template.Context) -> dict[str, Any]:
    """``commitments`` are the dicts of the case detail; a failed POST puts its bound form in
    ``commitment_form`` (a new promise) or ``commitment_action_form`` with
    ``commitment_action_id`` and ``commitment_action`` ("renegotiate" / "withdraw")."""
    action_id = context.get("commitment_action_id")
    action = context.get("commitment_action")
    rows = []
    for item in context.get("commitments") or []:
        bound = context.get("commitment_action_form") if item.get("id") == action_id else None
        rows.append(
            {
                "c": item,
                "renegotiate_form": bound
                if bound and action == "renegotiate"
                else RenegotiateForm(auto_id=f"id_reneg{item.get('id')}_%s"),
                "withdraw_form": bound
                if bound and action == "withdraw"
                else WithdrawForm(auto_id=f"id_withdraw{item.get('id')}_%s"),
                "open_action": action if bound else None,
            }
        )
    return {
        "request": context.get("request"),
        "csrf_token": context.get("csrf_token"),
        "case": context.get("case"),
        "can_change": context.get("can_change"),
        "rows": rows,
        "new_form": context.get("commitment_form") or CommitmentForm(auto_id="id_promise_%s"),
    }
