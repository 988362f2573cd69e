from django.urls import path

from cases import api

urlpatterns = [
    path("cases/", api.CaseListApi.as_view(), name="api-cases"),
    path("cases/<str:ref>/", api.CaseDetailApi.as_view(), name="api-case-detail"),
    path("cases/<str:ref>/notes/", api.CaseNoteApi.as_view(), name="api-case-notes"),
    path("queue/", api.QueueApi.as_view(), name="api-queue"),
]
