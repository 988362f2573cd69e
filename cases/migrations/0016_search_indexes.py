"""Name search at scale: ``caseowner_name_keys(text)`` and its GIN index.

PostgreSQL only (SQLite works the same keys out in Python, ``cases.customers.search_text``). The keys of
a name are its folded words (``to_tsvector('simple', …)`` lexemes) and, marked with ``~``, the
deletion forms of its words of three letters or more without digits: the word itself and the
word less any one letter. A name search asks the index for the typed words, their prefixes and
their own deletion forms (``cases.customers.search.NameKeysMatch``), and the index answers without
rechecking a row: the trigram index (``customer_name_trgm``) remains for looser matches, but
its recheck folds and weighs every candidate, which for a common name is thousands of rows.
"""

from django.db import migrations

KEYS_SQL = """
CREATE OR REPLACE FUNCTION caseowner_name_keys(text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$
    SELECT array_to_tsvector(ARRAY(
        SELECT w
        FROM unnest(tsvector_to_array(to_tsvector('simple'::regconfig, public.caseowner_fold($1)))) AS w
        UNION
        SELECT '~' || CASE WHEN i = 0 THEN w ELSE overlay(w PLACING '' FROM i FOR 1) END
        FROM unnest(tsvector_to_array(to_tsvector('simple'::regconfig, public.caseowner_fold($1)))) AS w,
            generate_series(0, length(w)) AS i
        WHERE w ~ '^[^0-9-]{3,}$'
    ))
    $$;
-- name search, tiers 0-2 (cases.customers.search_text): words, prefixes and one-letter slips
CREATE INDEX IF NOT EXISTS customer_name_keys ON cases_customer
    USING gin (caseowner_name_keys(full_name)) WHERE merged_into_id IS NULL;
"""

KEYS_DROP = """
DROP INDEX IF EXISTS customer_name_keys;
DROP FUNCTION IF EXISTS caseowner_name_keys(text);
"""


def keys_forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(KEYS_SQL, params=None)


def keys_backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(KEYS_DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("cases", "0015_handoff_team")]

    operations = [migrations.RunPython(keys_forwards, keys_backwards)]
