from django.urls import path

from cases import agent_api, api, customer_api, handoff_api

urlpatterns = [
    path(
        "cases/<str:ref>/handoffs/",
        handoff_api.CaseHandoffsApi.as_view(),
        name="api-case-handoffs",
    ),
    path(
        "handoffs/<id:handoff_id>/accept/",
        handoff_api.HandoffAcceptApi.as_view(),
        name="api-handoff-accept",
    ),
    path(
        "handoffs/<id:handoff_id>/decline/",
        handoff_api.HandoffDeclineApi.as_view(),
        name="api-handoff-decline",
    ),
    path(
        "handoffs/<id:handoff_id>/cancel/",
        handoff_api.HandoffCancelApi.as_view(),
        name="api-handoff-cancel",
    ),
    path(
        "handoffs/<id:handoff_id>/review/",
        handoff_api.HandoffReviewApi.as_view(),
        name="api-handoff-review",
    ),
    path("reports/handoffs/", handoff_api.HandoffReportApi.as_view(), name="api-report-handoffs"),
    path(
        "agents/me/availability/",
        agent_api.MyAvailabilityApi.as_view(),
        name="api-my-availability",
    ),
    path(
        "agents/<id:agent_id>/absences/",
        agent_api.AgentAbsencesApi.as_view(),
        name="api-agent-absences",
    ),
    path(
        "agents/<id:agent_id>/absences/<id:absence_id>/end/",
        agent_api.AbsenceEndApi.as_view(),
        name="api-agent-absence-end",
    ),
    path(
        "agents/<id:agent_id>/deactivate/",
        agent_api.AgentDeactivateApi.as_view(),
        name="api-agent-deactivate",
    ),
    path(
        "agents/<id:agent_id>/cover-for/",
        agent_api.CoverForApi.as_view(),
        name="api-agent-cover-for",
    ),
    path("cases/", api.CaseListApi.as_view(), name="api-cases"),
    path("cases/<str:ref>/", api.CaseDetailApi.as_view(), name="api-case-detail"),
    path("cases/<str:ref>/notes/", api.CaseNoteApi.as_view(), name="api-case-notes"),
    path("queue/", api.QueueApi.as_view(), name="api-queue"),
    # The customer's view behind the signed link (no login).
    path("customer/<str:token>/", customer_api.CustomerCaseApi.as_view(), name="api-customer"),
]
