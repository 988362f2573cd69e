from django.urls import path

from reports import views

urlpatterns = [
    path("start/", views.landing, name="landing"),
    path("manage/", views.dashboard, name="reports-dashboard"),
    path("manage/agents/", views.agents, name="reports-agents"),
    path("manage/promises/", views.promises, name="reports-promises"),
    path("manage/open-cases/", views.open_cases, name="reports-open-cases"),
]
