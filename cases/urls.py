from django.urls import path

from cases import live_views, views
from cases.availability import backup_views
from cases.availability import cover_for_views as cover_views
from cases.availability import views as away_views
from cases.conversations import views as conversation_views
from cases.customers import link_views as customer_views
from cases.customers import views as customer_record_views
from cases.handoffs import views as handoff_views
from cases.satisfaction import views as satisfaction_views

urlpatterns = [
    path("queue/", views.queue, name="queue"),
    path("queue/live/", live_views.queue_live, name="queue-live"),
    path("me/availability/", away_views.my_availability, name="my-availability"),
    path("cases/new/", views.case_new, name="case-new"),
    path("cases/<str:ref>/", views.case_detail, name="case-detail"),
    path("cases/<str:ref>/live/", live_views.case_live, name="case-live"),
    path("cases/<str:ref>/update/", views.case_update, name="case-update"),
    path("cases/<str:ref>/notes/", views.case_note, name="case-note"),
    path(
        "cases/<str:ref>/customer-link/revoke/",
        views.customer_link_revoke,
        name="customer-link-revoke",
    ),
    path("cases/<str:ref>/reply/", conversation_views.case_reply, name="case-reply"),
    path("cases/<str:ref>/contact/", conversation_views.case_contact, name="case-contact"),
    path(
        "manage/agents/<id:agent_id>/cover-for/",
        cover_views.cover_for_page,
        name="agent-cover-for",
    ),
    path("manage/teams/<id:team_id>/cover/", backup_views.team_cover_page, name="team-cover"),
    path("tasks/<id:task_id>/done/", conversation_views.task_done, name="task-done"),
    path("manage/inbound/", conversation_views.inbound_mail, name="inbound-mail"),
    path(
        "manage/inbound/<id:message_id>/attach/",
        conversation_views.inbound_attach,
        name="inbound-attach",
    ),
    path("cases/<str:ref>/handoffs/", handoff_views.case_offer, name="case-offer"),
    path("handoffs/<id:handoff_id>/accept/", handoff_views.offer_accept, name="offer-accept"),
    path("handoffs/<id:handoff_id>/decline/", handoff_views.offer_decline, name="offer-decline"),
    path("handoffs/<id:handoff_id>/cancel/", handoff_views.offer_cancel, name="offer-cancel"),
    path("c/<str:token>/", customer_views.customer_page, name="customer-page"),
    path("satisfaction/<str:token>/", satisfaction_views.answer_page, name="satisfaction-answer"),
    path("manage/handoffs/", handoff_views.handoff_audit, name="handoff-audit"),
    path("manage/handoffs.csv", handoff_views.handoff_audit_csv, name="handoff-audit-csv"),
    path(
        "manage/handoffs/<id:handoff_id>/review/",
        handoff_views.handoff_review,
        name="handoff-review",
    ),
    path("search/", customer_record_views.search_page, name="search"),
    path(
        "customers/<id:customer_id>/",
        customer_record_views.customer_detail,
        name="customer-detail",
    ),
    path(
        "customers/<id:customer_id>/edit/",
        customer_record_views.customer_edit,
        name="customer-edit",
    ),
    path(
        "customers/<id:customer_id>/merge/",
        customer_record_views.customer_merge,
        name="customer-merge",
    ),
    path(
        "customers/<id:customer_id>/unmerge/",
        customer_record_views.customer_unmerge,
        name="customer-unmerge",
    ),
    path("", views.home, name="home"),
]
