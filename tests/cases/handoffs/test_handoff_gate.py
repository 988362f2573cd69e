"""The summary quality gate: each kind of weak summary is refused with its own field error."""

from __future__ import annotations

import difflib
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cases.errors import CaseRuleError
from cases.handoffs import gate
from cases.handoffs.gate import handoff_summary_check
from cases.hooks import PromiseBrief
from cases.models import Handoff
from tests.factories import CaseFactory, good_summary, offer

COMMITMENTS = [
    PromiseBrief(
        id=12,
        description="Call back Friday before noon",
        due_at=datetime(2026, 11, 27, 12, tzinfo=UTC),
    ),
    PromiseBrief(
        id=15,
        description="Send the replacement router",
        due_at=datetime(2026, 11, 30, 17, tzinfo=UTC),
    ),
]


def check(summary=None, commitments=(), ticked=()):
    return handoff_summary_check(
        summary=summary or good_summary(),
        open_commitments=list(commitments),
        briefed_ids=list(ticked),
    )


def test_the_minimum_length_is_forty_characters():
    assert gate.SUMMARY_MIN_CHARS == 40
    assert check(good_summary(next_step="x" * 10 + " abc def ghi jkl mno pq")).errors == {
        "next_step": ["Too short: write at least 40 characters on the next step."]
    }


def test_a_good_summary_passes():
    result = check()
    assert result.passed
    assert result.commitments == []


@pytest.mark.parametrize("field", gate.SUMMARY_FIELDS)
def test_it_requires_every_field(field):
    result = check(good_summary(**{field: "   "}))
    assert list(result.errors) == [field]
    assert "required" in result.errors[field][0]


@pytest.mark.parametrize(
    "text",
    ["see notes", "See notes above!!", "as discussed", "N/A", "TBD", "same as above, see ticket"],
)
def test_it_refuses_a_pointer_to_notes_elsewhere(text):
    result = check(good_summary(actions_taken=text))
    assert result.errors == {
        "actions_taken": ["Write the content itself, not a pointer to notes elsewhere."]
    }


def test_a_pointer_inside_real_content_is_fine():
    text = "Checked the line, reset the router twice and booked an engineer; see notes for times."
    assert check(good_summary(actions_taken=text)).passed


def test_it_refuses_a_short_field():
    result = check(good_summary(customer_needs="Wants refund."))
    assert result.errors == {
        "customer_needs": ["Too short: write at least 40 characters on what the customer needs."]
    }


@pytest.mark.parametrize(
    "text", ["." * 60, "test test test test test test test test test", "asdf " * 12]
)
def test_it_refuses_repeated_filler(text):
    result = check(good_summary(next_step=text))
    assert result.errors == {
        "next_step": ["Say it in words: this repeats the same few words or characters."]
    }


def test_it_refuses_a_field_copied_from_another():
    summary = good_summary()
    copied = good_summary(next_step=summary.customer_needs.upper() + "  ")
    result = check(copied)
    assert result.errors == {
        "next_step": [
            "This copies what the customer needs; write what is specific to the next step."
        ]
    }


def test_every_open_commitment_must_be_briefed():
    result = check(commitments=COMMITMENTS)
    assert list(result.errors) == ["briefed_commitments"]
    messages = result.errors["briefed_commitments"]
    assert len(messages) == 2
    assert "commitment 12" in messages[0] and "Call back Friday before noon" in messages[0]
    assert "commitment 15" in messages[1]


def test_a_commitment_is_briefed_by_mention_or_by_tick():
    summary = good_summary(next_step="Call her back Friday before noon as promised (#12), then.")
    result = check(summary, commitments=COMMITMENTS, ticked=[15])
    assert result.passed
    assert [(c["id"], c["briefed"]) for c in result.commitments] == [
        (12, "mentioned"),
        (15, "ticked"),
    ]


@pytest.mark.parametrize("mention", ["#15", "commitment 15", "Commitment #15", "promise 15"])
def test_a_commitment_can_be_mentioned_by_reference(mention):
    summary = good_summary(next_step=f"Make sure {mention} goes out before the weekend, tracked.")
    result = check(summary, commitments=COMMITMENTS[1:])
    assert result.passed, result.errors


def test_a_longer_number_is_not_a_mention():
    summary = good_summary(next_step="Make sure #150 goes out before the weekend, tracked.")
    assert not check(summary, commitments=COMMITMENTS[1:]).passed


def test_ticking_an_unknown_commitment_is_an_error():
    result = check(ticked=[99])
    assert result.errors == {
        "briefed_commitments": ["Commitment 99 is not an open commitment of the case."]
    }


@pytest.mark.django_db
def test_an_offer_failing_the_gate_raises_with_all_field_errors(monkeypatch):
    monkeypatch.setattr("cases.hooks.open_commitments", [lambda case: COMMITMENTS[:1]])
    case = CaseFactory()
    with pytest.raises(CaseRuleError) as caught:
        offer(
            case,
            summary=good_summary(customer_needs="see notes", next_step=""),
            briefed_commitments=[],
        )
    error = caught.value
    assert error.code == "handoff_summary_incomplete"
    assert error.status_code == 400
    assert set(error.fields) == {"customer_needs", "next_step", "briefed_commitments"}
    assert not Handoff.objects.exists()


@pytest.mark.django_db
def test_the_offer_stores_the_commitment_snapshot(monkeypatch):
    monkeypatch.setattr("cases.hooks.open_commitments", [lambda case: COMMITMENTS])
    case = CaseFactory()
    handoff = offer(case, briefed_commitments=[12, 15])
    handoff.refresh_from_db()
    assert [c["id"] for c in handoff.briefed_commitments] == [12, 15]
    assert handoff.briefed_commitments[0]["description"] == "Call back Friday before noon"
    assert all(c["briefed"] == "ticked" for c in handoff.briefed_commitments)


@given(
    text=st.text(alphabet="abcde fgh", max_size=80),
    edits=st.lists(st.tuples(st.integers(0, 80), st.sampled_from("abxyz ")), max_size=12),
)
def test_the_copy_check_answers_as_difflibs_full_ratio(text: str, edits: list) -> None:
    other = list(text)
    for at, char in edits:
        other.insert(min(at, len(other)), char)
    other_text = "".join(other)
    full = difflib.SequenceMatcher(None, text, other_text).ratio() >= gate.SUMMARY_COPY_RATIO
    assert gate._copies(text, other_text) is full
