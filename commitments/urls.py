from django.urls import path

from commitments import callback_views, views

urlpatterns = [
    path("cases/<str:ref>/commitments/new/", views.commitment_new, name="commitment-new"),
    path("commitments/<id:pk>/keep/", views.commitment_keep, name="commitment-keep"),
    path("commitments/<id:pk>/confirm/", views.commitment_confirm, name="commitment-confirm"),
    path(
        "commitments/<id:pk>/renegotiate/",
        views.commitment_renegotiate,
        name="commitment-renegotiate",
    ),
    path("commitments/<id:pk>/withdraw/", views.commitment_withdraw, name="commitment-withdraw"),
    path("cases/<str:ref>/callback/", callback_views.case_callback_page, name="case-callback"),
    path(
        "c/<str:token>/callback/", callback_views.customer_callback_page, name="customer-callback"
    ),
]
