"""Routes of the development pages (mounted under /dev/ only while the demo app is installed)."""

from django.urls import path

from demo import mail_views

urlpatterns = [
    path("mail/", mail_views.mail_list, name="dev-mail"),
    path("mail/<id:pk>/", mail_views.mail_detail, name="dev-mail-detail"),
    path("mail/<id:pk>/html/", mail_views.mail_html, name="dev-mail-html"),
    path(
        "mail/<id:pk>/attachments/<id:number>/",
        mail_views.mail_attachment,
        name="dev-mail-attachment",
    ),
]
