from django.urls import path

from caseowner.ops import views

urlpatterns = [
    path("metrics", views.metrics, name="metrics"),
    path("health/live", views.live, name="health-live"),
    path("health/ready", views.ready, name="health-ready"),
]
