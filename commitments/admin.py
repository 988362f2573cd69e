from django.contrib import admin

from commitments.models import BusinessCalendar, ClosedDay, Commitment


class ClosedDayInline(admin.TabularInline):
    model = ClosedDay
    extra = 1


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ["team", "around_the_clock", "holiday_country", "holiday_subdivision"]
    inlines = [ClosedDayInline]


@admin.register(Commitment)
class CommitmentAdmin(admin.ModelAdmin):
    """Read-only: promises change only through the services (and so the timeline)."""

    list_display = ["pk", "case", "owner", "kind", "due_at", "status", "ended_at"]
    list_filter = ["status", "kind"]
    list_select_related = ["case", "owner"]
    raw_id_fields = ["case", "owner", "made_by", "ended_by", "successor"]
    date_hierarchy = "due_at"

    def has_add_permission(self, request) -> bool:  # noqa: ANN001
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False
