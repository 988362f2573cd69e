from django.urls import path

from commitments import api
from commitments import callback_api as cb

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
    path(
        "customer/<str:token>/callback-slots/",
        cb.CustomerCallbackSlotsApi.as_view(),
        name="api-customer-callback-slots",
    ),
    path(
        "customer/<str:token>/callbacks/",
        cb.CustomerCallbacksApi.as_view(),
        name="api-customer-callbacks",
    ),
    path(
        "customer/<str:token>/callbacks/move/",
        cb.CustomerCallbackMoveApi.as_view(),
        name="api-customer-callback-move",
    ),
    path(
        "customer/<str:token>/callbacks/cancel/",
        cb.CustomerCallbackCancelApi.as_view(),
        name="api-customer-callback-cancel",
    ),
    path(
        "cases/<str:ref>/callback-slots/",
        cb.CaseCallbackSlotsApi.as_view(),
        name="api-case-callback-slots",
    ),
    path("cases/<str:ref>/callbacks/", cb.CaseCallbacksApi.as_view(), name="api-case-callbacks"),
    path(
        "cases/<str:ref>/callbacks/move/",
        cb.CaseCallbackMoveApi.as_view(),
        name="api-case-callback-move",
    ),
    path(
        "cases/<str:ref>/callbacks/cancel/",
        cb.CaseCallbackCancelApi.as_view(),
        name="api-case-callback-cancel",
    ),
]
