"""Text matching for search, in Python: the folding, name keys and trigram measures
PostgreSQL applies (``caseowner_fold``, ``caseowner_name_keys``, ``pg_trgm``), registered as SQL
functions on SQLite connections so the embedded database finds the same candidates, and the
ranking both databases share.

PostgreSQL finds candidates with its indexes; the order is then decided here, the same way
on both, so a misspelt name finds the same customer first on either database.

Names are found in tiers, closest first, so a common name is answered from the first tier
without weighing every customer who shares it:

0. every word typed is a word of the name;
1. every word typed is a word of the name or the start of one ("Bront");
2. as 1, or one letter wrong: changed, added, dropped or two neighbours swapped ("Nugyen").
   Two words one such slip apart share a *deletion form* (the word itself or the word less
   one letter: "nguyen" and "nugyen" share "nuyen"), so the name's deletion forms are indexed
   as ``~``-marked keys beside its words and a typed word asks for its own;
3. every word typed is trigram-near the name (``pg_trgm`` word similarity), the loosest.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any

# pg_trgm's word-similarity threshold for name candidates: low enough that one transposed
# pair of letters in a six-letter surname still matches (3 of 7 trigrams), the ranking
# below then puts the closest name first.
WORD_SIMILARITY_THRESHOLD = 0.4

# Words typed at least this long may have one letter wrong (tier 2); name words of at
# least three letters without digits or hyphens carry deletion forms (``_KEYED``).
NEAR_MIN = 4
_KEYED = re.compile(r"^[^0-9-]{3,}$")
# Marks a deletion form among a name's keys, so it never answers an exact or prefix search.
NEAR_MARK = "~"

# What unaccent maps that Unicode decomposition does not.
_EXTRA_FOLDS = str.maketrans({"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ł": "l"})
_WORD = re.compile(r"[^\W_]+")


@functools.lru_cache(maxsize=4096)
def fold(text: str | None) -> str:
    """Lower case without accents: "Zoë Brontë" → "zoe bronte" (``caseowner_fold``)."""
    if text is None:
        return ""
    decomposed = unicodedata.normalize("NFKD", text.lower().translate(_EXTRA_FOLDS))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


@functools.lru_cache(maxsize=4096)
def _trigram_list(text: str) -> tuple[str, ...]:
    """pg_trgm's trigrams in text order: each word padded with two spaces before, one after."""
    grams: list[str] = []
    for word in words(text):
        padded = f"  {word} "
        grams.extend(padded[i : i + 3] for i in range(len(padded) - 2))
    return tuple(grams)


@functools.lru_cache(maxsize=4096)
def trigrams(text: str) -> frozenset[str]:
    return frozenset(_trigram_list(text))


def word_similarity(query: str, text: str) -> float:
    """pg_trgm's ``word_similarity(query, text)``: the best similarity between the query's
    trigrams and a continuous extent of the text's trigrams, |common| / |query ∪ extent|."""
    wanted = trigrams(query)
    grams = _trigram_list(text)
    best = 0.0
    for start in range(len(grams)):
        if grams[start] not in wanted:
            continue
        extent: set[str] = set()
        common = 0  # len(extent & wanted), kept as the extent grows
        for gram in grams[start:]:
            if gram in extent:
                continue
            extent.add(gram)
            if gram in wanted:
                common += 1
                best = max(best, common / (len(wanted) + len(extent) - common))
    return best


def _one_edit_apart(a: str, b: str) -> bool:
    """One letter changed, added, dropped, or two neighbours swapped (Damerau distance 1)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def _word_score(q: str, name_words: list[str]) -> float:
    best = 0.0
    for w in name_words:
        if w == q:
            return 1.0
        if len(q) >= 2 and w.startswith(q):
            best = max(best, 0.9)
        elif len(q) >= 4 and _one_edit_apart(q, w):
            best = max(best, 0.8)
    return best


def name_score(query: str, name: str) -> float:
    """How well a name answers the query, 0–1: each query word against the name's closest
    word (same 1, start of it 0.9, one slip of the finger 0.8), averaged; the trigram share
    breaks ties and scores what those miss."""
    q_words, n_words = words(query), words(name)
    if not q_words or not n_words:
        return 0.0
    exact = sum(_word_score(q, n_words) for q in q_words) / len(q_words)
    trigram = word_similarity(query, name)
    return round(max(exact, 0.7 * trigram) + 0.01 * trigram, 6)


def query_words(text: str) -> list[str]:
    """The words of a name search that must each be found: one-letter words ("J Smith") only
    when nothing longer was typed."""
    found = words(text)
    return [w for w in found if len(w) > 1] or found


def deletion_forms(word: str) -> set[str]:
    """The word and the word less any one letter: two words share one exactly when one
    letter changed, was added, dropped, or two neighbours were swapped (or, rarely, two
    letters changed in a way that leaves the same word less one letter)."""
    return {word} | {word[:i] + word[i + 1 :] for i in range(len(word))}


def name_keys(name: str) -> set[str]:
    """What ``caseowner_name_keys(name)`` indexes: the name's words, and the deletion forms of
    its words of three letters or more (no digits), marked with ``NEAR_MARK``."""
    found = words(name)
    near = {NEAR_MARK + f for w in found if _KEYED.match(w) for f in deletion_forms(w)}
    return set(found) | near


def _lexeme(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _prefix_term(word: str) -> str:
    return _lexeme(word) + (":*" if len(word) > 1 else "")


def name_tsqueries(typed: list[str]) -> list[str]:
    """The ``tsquery`` of tiers 0, 1 and 2 against ``caseowner_name_keys`` (see above)."""
    exact = " & ".join(_lexeme(w) for w in typed)
    prefix = " & ".join(_prefix_term(w) for w in typed)
    near_terms = []
    for w in typed:
        terms = [_prefix_term(w)]
        if len(w) >= NEAR_MIN:
            terms += [_lexeme(NEAR_MARK + f) for f in sorted(deletion_forms(w))]
        near_terms.append("(" + " | ".join(terms) + ")")
    return [exact, prefix, " & ".join(near_terms)]


def _starts(word: str, name_words: list[str]) -> bool:
    return word in name_words or (len(word) > 1 and any(w.startswith(word) for w in name_words))


def name_tier(typed: list[str], name: str) -> int | None:
    """The first tier (0–3, above) in which the name answers the typed words, else None: what
    the tier queries find on PostgreSQL, worked out row by row (SQLite)."""
    if not typed:
        return None
    name_words = words(name)
    if all(w in name_words for w in typed):
        return 0
    starts = [_starts(w, name_words) for w in typed]
    if all(starts):
        return 1
    keys = name_keys(name)
    if all(
        s or (len(w) >= NEAR_MIN and any(NEAR_MARK + f in keys for f in deletion_forms(w)))
        for s, w in zip(starts, typed, strict=True)
    ):
        return 2
    if all(word_similarity(w, name) >= WORD_SIMILARITY_THRESHOLD for w in typed):
        return 3
    return None


def words_match(text: str | None, query: str) -> bool:
    """Every word of the query is a word of the text (``plainto_tsquery('simple', …)``)."""
    wanted = set(words(query))
    return bool(wanted) and wanted <= set(words(text or ""))


def register_sqlite_functions(sender: Any, connection: Any, **kwargs: Any) -> None:
    """``connection_created``: the SQL functions ``cases.customers.search`` calls. SQLite gets
    Python versions; PostgreSQL has ``caseowner_fold`` from migration 0006 and is told the
    word-similarity threshold of ``%>`` (its GIN index reads it)."""
    if connection.vendor == "sqlite":
        raw = connection.connection
        raw.create_function("caseowner_fold", 1, fold, deterministic=True)
        raw.create_function(
            "caseowner_word_similarity",
            2,
            lambda q, t: word_similarity(q or "", t or ""),
            deterministic=True,
        )
        raw.create_function(
            "caseowner_name_tier",
            2,
            lambda typed, name: name_tier((typed or "").split(), name or ""),
            deterministic=True,
        )
        raw.create_function(
            "caseowner_words_match", 2, lambda t, q: int(words_match(t, q)), deterministic=True
        )
    elif connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('pg_trgm.word_similarity_threshold', %s, false)",
                [str(WORD_SIMILARITY_THRESHOLD)],
            )
