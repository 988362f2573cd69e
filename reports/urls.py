from django.urls import path

from reports import settings_views, views

urlpatterns = [
    path("start/", views.landing, name="landing"),
    path("manage/", views.dashboard, name="reports-dashboard"),
    path("manage/agents/", views.agents, name="reports-agents"),
    path("manage/promises/", views.promises, name="reports-promises"),
    path("manage/settings/", settings_views.team_settings, name="reports-settings"),
    path("manage/first-response/", views.first_response, name="reports-first-response"),
    path("manage/open-cases/", views.open_cases, name="reports-open-cases"),
]
