from django.urls import path

from cases import api, queue_api, task_api, webhook_api
from cases.availability import api as agent_api
from cases.availability import backup_api
from cases.conversations import api as conversation_api
from cases.customers import api as customer_record_api
from cases.customers import link_api as customer_api
from cases.handoffs import api as handoff_api
from cases.satisfaction import api as satisfaction_api

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
    path("teams/<id:team_id>/cover/", backup_api.TeamCoverApi.as_view(), name="api-team-cover"),
    path("cases/", api.CaseListApi.as_view(), name="api-cases"),
    path("cases/<str:ref>/", api.CaseDetailApi.as_view(), name="api-case-detail"),
    path("cases/<str:ref>/notes/", api.CaseNoteApi.as_view(), name="api-case-notes"),
    path(
        "cases/<str:ref>/customer-link/revoke/",
        api.CustomerLinkRevokeApi.as_view(),
        name="api-customer-link-revoke",
    ),
    path(
        "cases/<str:ref>/contacts/",
        conversation_api.CaseContactsApi.as_view(),
        name="api-case-contacts",
    ),
    path(
        "cases/<str:ref>/replies/",
        conversation_api.CaseRepliesApi.as_view(),
        name="api-case-replies",
    ),
    path("inbound/email/", conversation_api.InboundEmailApi.as_view(), name="api-inbound-email"),
    path("queue/", queue_api.QueueApi.as_view(), name="api-queue"),
    path("webhooks/events/", webhook_api.WebhookEventsApi.as_view(), name="api-webhook-events"),
    path(
        "webhooks/endpoints/",
        webhook_api.WebhookEndpointsApi.as_view(),
        name="api-webhook-endpoints",
    ),
    path(
        "webhooks/endpoints/<id:endpoint_id>/",
        webhook_api.WebhookEndpointApi.as_view(),
        name="api-webhook-endpoint",
    ),
    path(
        "webhooks/endpoints/<id:endpoint_id>/rotate-secret/",
        webhook_api.WebhookSecretRotateApi.as_view(),
        name="api-webhook-rotate-secret",
    ),
    path(
        "webhooks/endpoints/<id:endpoint_id>/pause/",
        webhook_api.WebhookPauseApi.as_view(),
        name="api-webhook-pause",
    ),
    path(
        "webhooks/endpoints/<id:endpoint_id>/resume/",
        webhook_api.WebhookResumeApi.as_view(),
        name="api-webhook-resume",
    ),
    path(
        "webhooks/endpoints/<id:endpoint_id>/deliveries/",
        webhook_api.WebhookDeliveriesApi.as_view(),
        name="api-webhook-deliveries",
    ),
    path(
        "webhooks/endpoints/<id:endpoint_id>/deliveries/<id:delivery_id>/redeliver/",
        webhook_api.WebhookRedeliverApi.as_view(),
        name="api-webhook-redeliver",
    ),
    path("tasks/<id:task_id>/done/", task_api.OwnerTaskDoneApi.as_view(), name="api-task-done"),
    path("search/", customer_record_api.SearchApi.as_view(), name="api-search"),
    path("customers/", customer_record_api.CustomerListApi.as_view(), name="api-customers"),
    path(
        "customers/<id:customer_id>/",
        customer_record_api.CustomerDetailApi.as_view(),
        name="api-customer-detail",
    ),
    path(
        "customers/<id:customer_id>/merge/",
        customer_record_api.CustomerMergeApi.as_view(),
        name="api-customer-merge",
    ),
    path(
        "customers/<id:customer_id>/unmerge/",
        customer_record_api.CustomerUnmergeApi.as_view(),
        name="api-customer-unmerge",
    ),
    # The customer's view behind the signed link (no login).
    path("customer/<str:token>/", customer_api.CustomerCaseApi.as_view(), name="api-customer"),
    path(
        "customer/satisfaction/<str:token>/",
        satisfaction_api.SatisfactionAnswerApi.as_view(),
        name="api-satisfaction-answer",
    ),
]
