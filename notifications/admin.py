from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from notifications.models import DeliveryLog, Notification, NotificationStatus, WebhookEndpoint
from notifications.services import notification_retry
from notifications.webhooks import webhook_endpoint_check


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "status",
        "channel",
        "recipient_address",
        "template",
        "send_after",
        "attempts",
        "sent_at",
        "short_error",
    )
    list_filter = ("status", "channel", "recipient_kind")
    search_fields = ("recipient_address", "dedupe_key", "=id")
    ordering = ("-id",)
    date_hierarchy = "send_after"
    actions = ["retry_failed"]
    list_select_related = ()
    show_full_result_count = False
    readonly_fields = [f.name for f in Notification._meta.fields] + ["message_id"]

    @admin.display(description="last error")
    def short_error(self, obj: Notification) -> str:
        return obj.last_error[:80]

    @admin.action(description="Retry the selected failed notifications now")
    def retry_failed(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        ids = list(queryset.filter(status=NotificationStatus.FAILED).values_list("id", flat=True))
        count = notification_retry(ids=ids)
        self.message_user(request, f"{count} notification(s) queued again.", messages.SUCCESS)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(DeliveryLog)
class DeliveryLogAdmin(admin.ModelAdmin):
    list_display = ("id", "status", "channel", "recipient_address", "template", "sent_at")
    list_filter = ("status", "channel")
    search_fields = ("recipient_address", "dedupe_key", "=id")
    ordering = ("-finished_at",)
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class WebhookEndpointForm(forms.ModelForm):
    """The admin obeys the same rules as ``webhook_endpoint_register``."""

    url = forms.URLField(max_length=500, assume_scheme="https")

    class Meta:
        model = WebhookEndpoint
        fields = ["scope", "url", "secret", "events", "description", "is_active"]

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        try:
            webhook_endpoint_check(url=cleaned.get("url", ""), secret=cleaned.get("secret", ""))
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return cleaned


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ("id", "scope", "url", "is_active", "events", "created_at")
    list_filter = ("is_active",)
    search_fields = ("scope", "url")
