"""Existing phone numbers in E.164 where they parse, read in the region of the team of the
customer's first case (else ``PHONE_DEFAULT_REGION``); the others stay as typed."""

from django.conf import settings
from django.db import migrations

BATCH = 2000


def forwards(apps, schema_editor):
    import phonenumbers

    Customer = apps.get_model("cases", "Customer")
    Case = apps.get_model("cases", "Case")
    default = getattr(settings, "PHONE_DEFAULT_REGION", "GB")
    last = 0
    while True:
        rows = list(
            Customer.objects.filter(pk__gt=last)
            .exclude(phone="")
            .order_by("pk")
            .values_list("pk", "phone")[:BATCH]
        )
        if not rows:
            return
        last = rows[-1][0]
        regions = dict(
            Case.objects.filter(customer_id__in=[pk for pk, _ in rows])
            .order_by("customer_id", "-created_at")
            .values_list("customer_id", "team__phone_region")
        )
        for pk, phone in rows:
            try:
                number = phonenumbers.parse(phone, regions.get(pk, default))
            except phonenumbers.NumberParseException:
                continue
            possible = phonenumbers.ValidationResult.IS_POSSIBLE
            if phonenumbers.is_possible_number_with_reason(number) != possible:
                continue
            e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            if e164 != phone:
                Customer.objects.filter(pk=pk).update(phone=e164)


class Migration(migrations.Migration):
    dependencies = [("cases", "0009_customer_search")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
