from django.urls import path

from reports import api, audit_api, satisfaction_api, settings_api

urlpatterns = [
    path("reports/handoffs/", audit_api.HandoffReportApi.as_view(), name="api-report-handoffs"),
    path(
        "reports/commitments/",
        audit_api.CommitmentReportApi.as_view(),
        name="api-report-commitments",
    ),
    path(
        "reports/teams/<id:team_id>/summary/",
        api.TeamSummaryApi.as_view(),
        name="api-report-team-summary",
    ),
    path(
        "reports/teams/<id:team_id>/agents/",
        api.TeamAgentsApi.as_view(),
        name="api-report-team-agents",
    ),
    path(
        "reports/teams/<id:team_id>/satisfaction/",
        satisfaction_api.TeamSatisfactionApi.as_view(),
        name="api-report-team-satisfaction",
    ),
    path(
        "reports/teams/<id:team_id>/settings/",
        settings_api.TeamSettingsApi.as_view(),
        name="api-report-team-settings",
    ),
]
