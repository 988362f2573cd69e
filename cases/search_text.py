"""Text matching for search, in Python: the folding and trigram measures PostgreSQL applies
(``caseowner_fold``, ``pg_trgm``), registered as SQL functions on SQLite connections so the
embedded database finds the same candidates, and the ranking both databases share.

PostgreSQL finds candidates with its indexes; the order is then decided here, the same way
on both, so a misspelt name finds the same customer first on either database.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

# pg_trgm's word-similarity threshold for name candidates: low enough that one transposed
# pair of letters in a six-letter surname still matches (3 of 7 trigrams), the ranking
# below then puts the closest name first.
WORD_SIMILARITY_THRESHOLD = 0.4

# What unaccent maps that Unicode decomposition does not.
_EXTRA_FOLDS = str.maketrans({"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ł": "l"})
_WORD = re.compile(r"[^\W_]+")


def fold(text: str | None) -> str:
    """Lower case without accents: "Zoë Brontë" → "zoe bronte" (``caseowner_fold``)."""
    if text is None:
        return ""
    decomposed = unicodedata.normalize("NFKD", text.lower().translate(_EXTRA_FOLDS))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def _trigram_list(text: str) -> list[str]:
    """pg_trgm's trigrams in text order: each word padded with two spaces before, one after."""
    grams: list[str] = []
    for word in words(text):
        padded = f"  {word} "
        grams.extend(padded[i : i + 3] for i in range(len(padded) - 2))
    return grams


def trigrams(text: str) -> set[str]:
    return set(_trigram_list(text))


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
        for gram in grams[start:]:
            extent.add(gram)
            if gram in wanted:
                common = len(extent & wanted)
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
    return round(
        max(exact, 0.7 * word_similarity(query, name)) + 0.01 * word_similarity(query, name), 6
    )


def words_match(text: str | None, query: str) -> bool:
    """Every word of the query is a word of the text (``plainto_tsquery('simple', …)``)."""
    wanted = set(words(query))
    return bool(wanted) and wanted <= set(words(text or ""))


def register_sqlite_functions(sender: Any, connection: Any, **kwargs: Any) -> None:
    """``connection_created``: the SQL functions ``cases.search`` calls. SQLite gets Python
    versions; PostgreSQL has ``caseowner_fold`` from migration 0006 and is told the
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
            "caseowner_words_match", 2, lambda t, q: int(words_match(t, q)), deterministic=True
        )
    elif connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('pg_trgm.word_similarity_threshold', %s, false)",
                [str(WORD_SIMILARITY_THRESHOLD)],
            )
