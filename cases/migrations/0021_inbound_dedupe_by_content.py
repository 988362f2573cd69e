"""Inbound mail: a message that could not be read says why (``problem``), and each stored
message's de-duplication key becomes its Message-ID with a digest of its content, as new
messages get (``cases.conversations.inbound.inbound_dedupe_key``), so a redelivery of a message stored
before this change is still recognised. The key is computed here as that function did when
this migration was written."""

import hashlib

from django.db import migrations, models

BATCH = 200
_TRANSIT_HEADERS = frozenset(
    {
        b"received",
        b"return-path",
        b"delivered-to",
        b"x-original-to",
        b"envelope-to",
        b"received-spf",
        b"authentication-results",
        b"arc-seal",
        b"arc-message-signature",
        b"arc-authentication-results",
    }
)


def _without_transit_headers(raw):
    start = 0
    while start < len(raw):
        end = raw.find(b"\n", start)
        end = len(raw) if end < 0 else end + 1
        name, colon, _ = raw[start:end].partition(b":")
        if not colon or name.strip().lower() not in _TRANSIT_HEADERS:
            break
        start = end
        while start < len(raw) and raw[start : start + 1] in (b" ", b"\t"):
            end = raw.find(b"\n", start)
            start = len(raw) if end < 0 else end + 1
    return raw[start:]


def _key(raw, message_id):
    content = _without_transit_headers(raw).replace(b"\r\n", b"\n")
    digest = hashlib.sha256(content).hexdigest()
    return "sha256:" + hashlib.sha256(f"{message_id}\n{digest}".encode()).hexdigest()


def forwards(apps, schema_editor):
    InboundMessage = apps.get_model("cases", "InboundMessage")
    last = 0
    while True:
        rows = list(
            InboundMessage.objects.filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", "message_id", "raw", "dedupe_key")[:BATCH]
        )
        if not rows:
            return
        last = rows[-1][0]
        for pk, message_id, raw, old in rows:
            key = _key(bytes(raw), message_id)
            # Two old rows the new key would make one (no Message-ID, and bytes that differ
            # only in transit headers): the later keeps its old key, both stay.
            if key != old and not InboundMessage.objects.filter(dedupe_key=key).exists():
                InboundMessage.objects.filter(pk=pk).update(dedupe_key=key)


class Migration(migrations.Migration):
    dependencies = [("cases", "0020_contact_case_first")]

    operations = [
        migrations.AddField(
            model_name="inboundmessage",
            name="problem",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True),
    ]
