from django.urls import path

from commitments import api

urlpatterns = [
    path(
        "cases/<str:ref>/commitments/",
        api.CaseCommitmentsApi.as_view(),
        name="api-case-commitments",
    ),
    path("commitments/<id:pk>/keep/", api.CommitmentKeepApi.as_view(), name="api-commitment-keep"),
    path(
        "commitments/<id:pk>/renegotiate/",
        api.CommitmentRenegotiateApi.as_view(),
        name="api-commitment-renegotiate",
    ),
    path(
        "commitments/<id:pk>/withdraw/",
        api.CommitmentWithdrawApi.as_view(),
        name="api-commitment-withdraw",
    ),
    path(
        "commitments/<id:pk>/confirm-on-track/",
        api.CommitmentConfirmOnTrackApi.as_view(),
        name="api-commitment-confirm-on-track",
    ),
]
