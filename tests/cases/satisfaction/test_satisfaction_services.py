"""The question at close: asked once, never for spam or a duplicate, in the customer's
language; a signed answer replaced within 7 days, then final; attributed to every owner who
held the case; managers alerted on a low score or a comment; erasure keeps the score only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from caseowner.errors import RuleError
from cases import hooks
from cases.customers.erasure import customer_erase
from cases.models import CaseStatus, HandoffStatus, SatisfactionAnswer
from cases.satisfaction import services
from cases.satisfaction.selectors import agent_satisfaction
from cases.services import case_change_status
from notifications.models import Notification
from notifications.rendering import render_email
from tests.factories import HandoffFactory, UserFactory

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def _close(case, by, **kwargs):
    with time_machine.travel(T0, tick=False):
        return case_change_status(case=case, status=CaseStatus.CLOSED, by=by, **kwargs)


def _question(case) -> Notification:
    return Notification.objects.get(dedupe_key=f"case:{case.pk}:satisfaction")


def _token(case) -> str:
    return services.answer_token(SatisfactionAnswer.objects.get(case=case).pk)


def test_closing_a_case_asks_its_customer_once(world):
    case, owner = world["case"], world["owner"]
    _close(case, owner)
    notice = _question(case)
    assert notice.recipient_address == case.customer.email
    assert notice.context["owner_name"] == owner.agent_profile.display_name
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        case_change_status(case=case, status=CaseStatus.OPEN, by=owner, reason="Came back")
    _close(case, owner)
    assert SatisfactionAnswer.objects.filter(case=case).count() == 1
    assert Notification.objects.filter(template="cases/email/satisfaction_question").count() == 1


@pytest.mark.parametrize("closed_as", ["spam", "duplicate"])
def test_a_case_closed_as_spam_or_duplicate_asks_nothing(world, closed_as):
    case = _close(world["case"], world["owner"], closed_as=closed_as)
    assert case.closed_as == closed_as
    assert not SatisfactionAnswer.objects.exists()
    assert not Notification.objects.filter(template="cases/email/satisfaction_question").exists()


def test_spam_or_duplicate_goes_with_a_closing_status_only(world):
    with pytest.raises(RuleError) as refused:
        case_change_status(
            case=world["case"], status=CaseStatus.WAITING, by=world["owner"], closed_as="spam"
        )
    assert refused.value.code == "invalid_closed_as"


def test_a_customer_without_an_address_is_not_asked(world):
    case = world["case"]
    case.customer.email = ""
    case.customer.save()
    _close(case, world["owner"])
    assert not SatisfactionAnswer.objects.exists()
    assert not Notification.objects.filter(template="cases/email/satisfaction_question").exists()


def test_the_question_is_written_in_the_customers_language(world):
    case = world["case"]
    case.customer.language = "de"
    case.customer.save()
    _close(case, world["owner"])
    notice = _question(case)
    mail = render_email(template=notice.template, context=notice.context)
    name = world["owner"].agent_profile.display_name
    assert f"Hat sich {name} gut um Ihr Anliegen gekümmert?" in mail.subject
    assert "?score=5" in mail.text


def test_the_answer_is_attributed_to_every_owner_who_held_the_case(world):
    case, owner, receiver = world["case"], world["owner"], world["receiver"]
    HandoffFactory(case=case, from_agent=owner, to_agent=receiver, status=HandoffStatus.ACCEPTED)
    case.owner = receiver
    case.save()
    _close(case, receiver)
    answer = SatisfactionAnswer.objects.get(case=case)
    assert answer.final_owner == receiver
    assert answer.handoffs == 1
    holders = dict(answer.holders.values_list("agent_id", "final"))
    assert holders == {owner.pk: False, receiver.pk: True}
    with time_machine.travel(T0 + timedelta(days=1), tick=False):
        services.satisfaction_answer(token=services.answer_token(answer.pk), score=4)
        mine = agent_satisfaction(agent=owner, now=T0 + timedelta(days=1))
        theirs = agent_satisfaction(agent=receiver, now=T0 + timedelta(days=1))
    assert (mine.held_answers, mine.final_answers, mine.held_mean) == (1, 0, 4.0)
    assert (theirs.held_answers, theirs.final_answers, theirs.final_mean) == (1, 1, 4.0)


def test_the_snapshot_takes_how_the_promises_ended(world, monkeypatch):
    monkeypatch.setattr(
        hooks,
        "promise_outcomes",
        [lambda case: hooks.PromiseOutcomes(kept=2, renegotiated=1, missed=0)],
    )
    _close(world["case"], world["owner"])
    answer = SatisfactionAnswer.objects.get()
    assert (answer.promises_kept, answer.promises_renegotiated, answer.promises_missed) == (2, 1, 0)


def test_a_second_answer_replaces_the_first_within_7_days_then_it_is_final(world):
    case = world["case"]
    _close(case, world["owner"])
    token = _token(case)
    with time_machine.travel(T0 + timedelta(hours=2), tick=False):
        services.satisfaction_answer(token=token, score=3)
    with time_machine.travel(T0 + timedelta(days=7, hours=1), tick=False):
        services.satisfaction_answer(token=token, score=5, comment="Sorted in the end")
    answer = SatisfactionAnswer.objects.get()
    assert (answer.score, answer.comment, answer.revision) == (5, "Sorted in the end", 2)
    assert SatisfactionAnswer.objects.count() == 1
    with time_machine.travel(T0 + timedelta(days=7, hours=2, seconds=1), tick=False):
        with pytest.raises(RuleError) as refused:
            services.satisfaction_answer(token=token, score=1)
    assert (refused.value.code, refused.value.status_code) == ("answer_final", 410)


def test_an_unanswered_question_closes_after_30_days(world):
    _close(world["case"], world["owner"])
    with time_machine.travel(T0 + timedelta(days=30, seconds=1), tick=False):
        with pytest.raises(RuleError) as refused:
            services.satisfaction_answer(token=_token(world["case"]), score=4)
    assert refused.value.code == "question_closed"


def test_a_stale_form_is_refused_rather_than_overwriting(world):
    _close(world["case"], world["owner"])
    token = _token(world["case"])
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        services.satisfaction_answer(token=token, score=4, revision=0)
        with pytest.raises(RuleError) as refused:
            services.satisfaction_answer(token=token, score=2, revision=0)
    assert (refused.value.code, refused.value.status_code) == ("answer_changed", 409)


@pytest.mark.parametrize("token", ["", "nonsense", services.answer_token(10**9)])
def test_a_forged_or_unknown_token_answers_nothing(world, token):
    _close(world["case"], world["owner"])
    with pytest.raises(RuleError) as refused:
        services.satisfaction_answer(token=token + ("x" if token.endswith(":") else ""), score=5)
    assert refused.value.status_code == 404


def test_a_score_outside_1_to_5_is_refused(world):
    _close(world["case"], world["owner"])
    with pytest.raises(RuleError) as refused:
        services.satisfaction_answer(token=_token(world["case"]), score=6)
    assert refused.value.code == "invalid_score"


def _alerts():
    return Notification.objects.filter(template="cases/email/satisfaction_alert")


@pytest.mark.parametrize(
    ("score", "comment", "alerted"),
    [(2, "", True), (1, "", True), (3, "", False), (5, "", False), (5, "Lovely", True)],
)
def test_a_low_score_or_a_comment_alerts_the_managers(world, score, comment, alerted):
    case = world["case"]
    _close(case, world["owner"])
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        services.satisfaction_answer(token=_token(case), score=score, comment=comment)
    alerts = list(_alerts())
    assert bool(alerts) is alerted
    if alerted:
        (alert,) = alerts
        assert alert.recipient_address == world["manager"].email
        assert alert.context["case_url"].endswith(f"/cases/{case.ref}/")
        mail = render_email(template=alert.template, context=alert.context)
        assert f"{score} out of 5" in mail.text and case.ref in mail.subject


def test_erasure_takes_the_comment_and_keeps_the_score(world):
    case = world["case"]
    _close(case, world["owner"])
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        services.satisfaction_answer(token=_token(case), score=1, comment="Ms X of 4 Elm Road")
    customer_erase(customer=case.customer, by=UserFactory(is_staff=True, is_superuser=True))
    answer = SatisfactionAnswer.objects.get()
    assert (answer.score, answer.comment) == (1, "[erased]")
    assert answer.holders.count() == 1
    assert "Elm Road" not in str(_alerts().get().context)


def test_erasure_keeps_that_a_case_was_closed_as_a_duplicate(world):
    case = _close(world["case"], world["owner"], closed_as="duplicate")
    customer_erase(customer=case.customer, by=UserFactory(is_staff=True, is_superuser=True))
    event = case.events.get(kind="status_changed")
    assert (event.data["to"], event.data["closed_as"]) == ("closed", "duplicate")
