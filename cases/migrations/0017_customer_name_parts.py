"""The name parts a customer gives (given and family name). Existing records: a one-word name
is a given name; a longer one is left whole (which word is the family name cannot be known:
"Wang Wei", "Anna van der Berg"), so a title is used only once staff record the parts."""

from django.db import migrations, models

import caseowner.text


def fill_parts(apps, schema_editor):
    Customer = apps.get_model("cases", "Customer")
    for customer in Customer.objects.filter(given_name="", family_name="").only("full_name"):
        words = customer.full_name.split()
        if len(words) == 1:
            customer.given_name = words[0]
            customer.save(update_fields=["given_name"])


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0016_search_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="customer",
            name="family_name",
            field=models.CharField(
                blank=True, max_length=200, validators=[caseowner.text.NoControlCharacters()]
            ),
        ),
        migrations.AddField(
            model_name="customer",
            name="given_name",
            field=models.CharField(
                blank=True, max_length=200, validators=[caseowner.text.NoControlCharacters()]
            ),
        ),
        migrations.RunPython(fill_parts, migrations.RunPython.noop),
    ]
