"""Danish as citizens type it, folded to one form so a rule written once matches every spelling.

Citizens write "Skraldespanden", "skraldespaanden" on a keyboard without æøå, "skraldespanden"
with the letters dropped, add emojis, and glue words into compounds. Folding maps æ, ae and a
alike (likewise ø/oe/o and å/aa/a), strips accents, case, emojis and punctuation. The few
collisions this creates ("rør"/"ror") cost less than a missed inquiry.

`TermIndex` finds many terms in one pass: all keywords and phrases are compiled into a single
trie-shaped regular expression and whole words are looked up in a dict, so a rule set with a
hundred times the keywords costs about the same per text. Nothing here knows about routes.
"""

from __future__ import annotations

import enum
import re
import threading
import unicodedata
from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import snowballstemmer

_COMBINING = re.compile(r"[\u0300-\u036f]+")
_SYMBOLS = re.compile(r"[^\w\s!-~]+")
_WORD = re.compile(r"[^\W_]+")

INFLECTION_ENDINGS = ("", "e", "en", "et", "er", "ene", "erne", "s", "es", "ens", "ets", "ers",
                      "n", "r", "ne", "rne", "t")
"""Endings a whole word may carry ("sti" → "stien", "stierne"); the list, not the stemmer,
decides, because stems of short words collide once æ/ø/å are folded ("ældre"/"aldrig")."""

MIN_COMPOUND_LENGTH = 4
"""Shorter keywords would be found inside far too many unrelated words ("pas" in "pasning")."""

COMPOUND_HEAD = 3
"""A keyword found inside a word needs at least this many letters before it ("have|affald")."""


def fold(text: str) -> str:
    """Lower-case, accent-free, with æ/ae/a, ø/oe/o and å/aa/a written the same way."""
    lowered = text.lower().replace("æ", "ae").replace("ø", "oe").replace("å", "aa")
    if not lowered.isascii():
        lowered = _COMBINING.sub("", unicodedata.normalize("NFKD", lowered))
    return lowered.replace("ae", "a").replace("aa", "a").replace("oe", "o")


def fold_pattern(pattern: str) -> str:
    """Fold a regular expression's letters like the text, leaving escapes such as \\S alone."""
    parts = re.split(r"(\\.)", pattern)
    return "".join(part if part.startswith("\\") else fold(part) for part in parts)


@dataclass(frozen=True)
class Text:
    """One inquiry text in the forms rules look at."""

    folded: str
    words: str
    """Folded words separated by single spaces, with a space at each end."""
    tokens: tuple[str, ...]

    @cached_property
    def plain(self) -> str:
        """Folded, emojis removed, punctuation kept: what regular expressions see."""
        return " ".join(_SYMBOLS.sub(" ", self.folded).split())

    @property
    def has_words(self) -> bool:
        return bool(self.tokens)


def normalise(text: str) -> Text:
    """The folded forms of `text`; emojis and punctuation never reach a keyword."""
    folded = fold(text)
    tokens = tuple(_WORD.findall(folded))
    return Text(folded=folded, words=f" {' '.join(tokens)} ", tokens=tokens)


class _Stemmer:
    """Snowball's Danish stemmer behind a cache; the stemmer object keeps state, hence the lock."""

    def __init__(self, limit: int = 100_000) -> None:
        self._stemmer = snowballstemmer.stemmer("danish")
        self._cache: dict[str, str] = {}
        self._limit = limit
        self._lock = threading.Lock()

    def __call__(self, word: str) -> str:
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        with self._lock:
            stemmed: str = self._stemmer.stemWord(word)
        if len(self._cache) >= self._limit:
            self._cache.clear()
        self._cache[word] = stemmed
        return stemmed


stem = _Stemmer()
"""`stem(folded_word)`: the word without its inflection ("skolerne" → "skol"), cached."""


def keyword_key(keyword: str) -> str:
    """The part of a folded keyword that must appear in the text ("rotter" → "rott").

    Cutting the keyword to its stem lets one entry find every inflection, but never shorter
    than MIN_COMPOUND_LENGTH letters, where it would start to hit unrelated words.
    """
    stemmed = stem(keyword)
    if not keyword.startswith(stemmed):
        return keyword
    return keyword[: max(len(stemmed), MIN_COMPOUND_LENGTH)]


def word_forms(word: str) -> tuple[str, ...]:
    """The spellings a whole word is recognised in: each common ending, also after a doubled
    final consonant ("hul" → "huller", "pas" → "passet")."""
    forms = [word + ending for ending in INFLECTION_ENDINGS]
    if word[-1:].isalpha() and word[-1] not in "aeiouy":
        forms += [word + word[-1] + ending for ending in INFLECTION_ENDINGS if ending[:1] == "e"]
    return tuple(forms)


class Kind(enum.Enum):
    """How a term may appear in a text."""

    KEYWORD = "keyword"
    """Anywhere in a word, inflected or inside a compound: "affald" in "haveaffaldet"."""
    WORD = "word"
    """Only as a whole word, inflected: "pas" in "passet" but not in "pasning"."""
    PHRASE = "phrase"
    """Several words in a row, from the start of a word: "farligt affald"."""


class Found(NamedTuple):
    """Term number `term` (its index in the list given to TermIndex) at words[start:end]."""

    term: int
    start: int
    end: int


class TermIndex:
    """Every term of a rule set, compiled once, found in a text in one scan."""

    def __init__(self, terms: Sequence[tuple[Kind, str]]) -> None:
        self._forms: dict[str, list[int]] = {}
        self._keys: dict[str, list[tuple[int, bool]]] = {}
        for index, (kind, term) in enumerate(terms):
            folded = normalise(term).words.strip()
            if kind is Kind.WORD:
                for form in word_forms(folded):
                    self._forms.setdefault(form, []).append(index)
            else:
                key = keyword_key(folded) if kind is Kind.KEYWORD else folded
                self._keys.setdefault(key, []).append((index, kind is Kind.KEYWORD))
        self._chains = {
            key: tuple((len(prefix), self._keys[prefix]) for prefix in _prefix_keys(key, self._keys))
            for key in self._keys
        }
        self._scan = re.compile(_trie(self._keys)) if self._keys else None

    def find(self, text: Text) -> list[Found]:
        """Where each term occurs; a term inside a longer found term is left out.

        The scan goes left to right taking the longest key at each place, and goes on after
        the end of what it accepted, or one letter on when the place was not allowed (a
        phrase must start a word; a keyword inside a word needs COMPOUND_HEAD letters before).
        """
        words = text.words
        found = self._whole_words(text)
        if self._scan is not None:
            match = self._scan.search(words)
            while match:
                start = match.start()
                head = start - words.rfind(" ", 0, start) - 1
                resume = start + 1
                for size, entries in self._chains[match.group()]:
                    for index, inside in entries:
                        if head == 0 or (inside and head >= COMPOUND_HEAD):
                            found.append(Found(index, start, start + size))
                            resume = max(resume, start + size)
                match = self._scan.search(words, resume)
        return _outermost(found)

    def _whole_words(self, text: Text) -> list[Found]:
        """Whole-word terms: a set intersection first, since most texts contain few of them."""
        found: list[Found] = []
        for token in self._forms.keys() & text.tokens:
            needle = f" {token} "
            at = text.words.find(needle)
            while at >= 0:
                start, end = at + 1, at + 1 + len(token)
                found.extend(Found(index, start, end) for index in self._forms[token])
                at = text.words.find(needle, end)
        return found


def _prefix_keys(key: str, keys: Container[str]) -> tuple[str, ...]:
    """The keys the trie's longest match stands for: itself and every key that begins it."""
    return tuple(key[:size] for size in range(len(key), 0, -1) if key[:size] in keys)


def _outermost(found: list[Found]) -> list[Found]:
    """Drop a find lying inside a longer one, so "brændeovn" hides the "brand" inside it.

    Sorted by start (longest first), a find is inside an earlier one exactly when it ends no
    later than the furthest end seen so far; finds with the very same span are all kept.
    """
    if len(found) < 2:
        return found
    found.sort(key=lambda item: (item.start, -item.end))
    kept: list[Found] = []
    reach, reach_span = -1, (-1, -1)
    for item in found:
        if item.end > reach:
            kept.append(item)
            reach, reach_span = item.end, (item.start, item.end)
        elif (item.start, item.end) == reach_span:
            kept.append(item)
    return kept


def _trie(keys: Iterable[str]) -> str:
    root: dict[str, dict] = {}  # type: ignore[type-arg]
    for key in keys:
        node = root
        for char in key:
            node = node.setdefault(char, {})
        node[""] = {}
    return _trie_pattern(root)


def _trie_pattern(node: dict[str, dict]) -> str:  # type: ignore[type-arg]
    """A regex trying each next letter once, longest match first, whatever the number of keys."""
    branches = [re.escape(char) + _trie_pattern(child) for char, child in sorted(node.items()) if char]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    return f"(?:{body})?" if "" in node else body
