from django.urls import path

from notifications.views import NotificationsHealthView

urlpatterns = [
    path(
        "health/notifications/",
        NotificationsHealthView.as_view(),
        name="health-notifications",
    ),
]
