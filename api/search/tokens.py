"""One tokenizer for the search index and its queries, the same on every database.

The databases only ever see its output: whitespace-separated tokens made of letters and
digits, which SQLite FTS5's `unicode61` and PostgreSQL's `simple` configuration both
take as they are (tests/search/test_tokens.py holds PostgreSQL to that).

- Chinese, Japanese and Korean text (runs of CJK characters): traditional characters
  are folded to simplified ones (`api.search.variants`), then each run is written as
  its overlapping character bigrams, in order (律师事务所 → 律师 师事 事务 务所); a run of
  one character is that character. After the whole text come the single characters of
  the longer runs, so that a one-character query (律) finds them too, without pushing
  apart the bigrams a phrase looks for.
- Other scripts: words of letters and digits, NFKC-normalised, casefolded and
  accent-folded (NFKD with the combining marks dropped: Zhìshèng → zhisheng, Straße →
  strasse), then stemmed by `stem`, a light English suffix stripper.

A query (`parse_query`) is a list of clauses that must all match: a bare word is a
clause of one token; a run of CJK characters is a phrase of its bigrams (高智晟 →
"高智 智晟"), so a name matches only where it is written whole; a quoted phrase is
one clause whose tokens must be adjacent and in order.
"""

import functools
import itertools
import re
import unicodedata
from dataclasses import dataclass

from api.search.variants import PAIRS

# Longer tokens are dropped: no word is that long, and PostgreSQL refuses lexemes over 2 KiB.
MAX_TOKEN = 64
# A query of more clauses than this is refused (`parse_query`).
MAX_CLAUSES = 16

_SIMPLIFIED = {PAIRS[i]: PAIRS[i + 1] for i in range(0, len(PAIRS), 2)}

_CJK_RANGES = (
    (0x1100, 0x11FF),  # Hangul Jamo
    (0x2E80, 0x2FDF),  # CJK radicals
    (0x3005, 0x3007),  # 々 〆 〇
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3130, 0x318F),  # Hangul compatibility Jamo
    (0x31F0, 0x31FF),  # Katakana extension
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xAC00, 0xD7AF),  # Hangul syllables
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0x20000, 0x3FFFF),  # CJK extensions B and later
)

_CJK, _WORD, _SEPARATOR = 1, 2, 0


@functools.cache
def _kind(char: str) -> int:
    code = ord(char)
    for low, high in _CJK_RANGES:
        if low <= code <= high:
            return _CJK
    # letters, digits and private-use characters: what FTS5's unicode61 keeps in a token
    category = unicodedata.category(char)
    if category[0] in "LN" or category == "Co":
        return _WORD
    return _SEPARATOR


@functools.cache
def fold(char: str) -> str:
    """One character as the index sees it: NFKC, casefolded; outside CJK without
    combining marks, in it traditional Chinese as simplified. May be empty (a combining
    mark) or longer (ß → ss)."""
    out = []
    for c in unicodedata.normalize("NFKC", char).casefold():
        if _kind(c) == _CJK:
            # kana voicing marks and Hangul syllables stay whole
            out.append(_SIMPLIFIED.get(c, c))
        else:
            decomposed = unicodedata.normalize("NFKD", c)
            out.extend(d for d in decomposed if not unicodedata.combining(d))
    return "".join(out)


# The scripts of nearly every text here (ASCII, CJK punctuation, the unified CJK
# ideographs, full-width forms): `fold_text` folds a text of these alone by a table of
# the few characters among them that `fold` changes.
_TABLED = ((0x0000, 0x007F), (0x3000, 0x303F), (0x4E00, 0x9FFF), (0xFF00, 0xFFEF))
_UNTABLED = re.compile("[^" + "".join(f"{chr(low)}-{chr(high)}" for low, high in _TABLED) + "]")


@functools.cache
def _fold_table() -> tuple[dict[str, str], re.Pattern[str]]:
    """The characters of the tabled scripts that `fold` changes, and a pattern of them."""
    table = {}
    for low, high in _TABLED:
        for code in range(low, high + 1):
            folded = fold.__wrapped__(chr(code))
            if folded != chr(code):
                table[chr(code)] = folded
    return table, re.compile("[" + "".join(map(re.escape, table)) + "]")


def fold_text(text: str) -> str:
    """`fold` of every character of `text`, joined: when the text is all of the tabled
    scripts, only the characters that change are looked at, else every one."""
    if _UNTABLED.search(text) is None:
        table, changing = _fold_table()
        return changing.sub(lambda match: table[match.group()], text)
    return "".join(map(fold, text))


_VOWEL = re.compile("[aeiouy]")


@functools.lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """A light English suffix stripper: plurals, -ed, -ing and -ee(s) go, a final -e
    and a doubled final consonant are dropped, so detained, detaining, detains,
    detainee and detainees all meet at `detain`, and release, released, releases and
    releasing at `releas`. Derivations are left alone (detention stays `detention`):
    stripping -tion or -ment joins words that are not the same (nation and nate,
    state and station). Words of digits, of other scripts, or shorter than four
    letters are kept whole. The same function runs on the index and on the query, so
    it only needs to be consistent, not to make real words."""
    if len(word) < 4 or not word.isascii() or not word.isalpha():
        return word
    base = word
    if base.endswith("ies") and len(base) > 4:
        base = base[:-3] + "y"
    elif base.endswith("sses"):
        base = base[:-2]
    elif base.endswith("s") and not base.endswith(("ss", "us", "is")):
        base = base[:-1]
    for suffix in ("ees", "ee", "ing", "ed"):
        if base.endswith(suffix) and _VOWEL.search(base[: -len(suffix)]):
            trimmed = base[: -len(suffix)]
            if len(trimmed) >= 3:
                base = trimmed
                if len(base) > 3 and base[-1] == base[-2] and base[-1] not in "aeiouls":
                    base = base[:-1]
            break
    if base.endswith("e") and len(base) > 4:
        base = base[:-1]
    return base


@dataclass(frozen=True, slots=True)
class Token:
    """A token and where it was found in the text (character offsets, end excluded)."""

    text: str
    start: int
    end: int


def _runs(text: str) -> list[tuple[int, list[tuple[str, int, int]]]]:
    """The text as runs of folded characters of one kind (CJK or word), each character
    with the offsets of the character it came from."""
    runs: list[tuple[int, list[tuple[str, int, int]]]] = []
    kind = _SEPARATOR
    chars: list[tuple[str, int, int]] = []
    for index, char in enumerate(text):
        for folded in fold(char):
            found = _kind(folded)
            if found != kind and chars:
                runs.append((kind, chars))
                chars = []
            kind = found
            if found != _SEPARATOR:
                chars.append((folded, index, index + 1))
    if chars and kind != _SEPARATOR:
        runs.append((kind, chars))
    return runs


_ASCII_WORD = re.compile("[A-Za-z0-9]+")


def _tokens(text: str) -> tuple[list[Token], list[Token]]:
    """The main stream (words, bigrams, lone CJK characters, in reading order) and the
    single characters of the longer CJK runs."""
    if text.isascii():
        # the same tokens, faster: in ASCII, folding is lowercasing, and the letters and
        # digits are the word characters
        return [
            Token(stem(match.group().lower()), match.start(), match.end())
            for match in _ASCII_WORD.finditer(text)
            if match.end() - match.start() <= MAX_TOKEN
        ], []
    main: list[Token] = []
    chars: list[Token] = []
    for kind, run in _runs(text):
        if kind == _CJK:
            if len(run) == 1:
                main.append(Token(*run[0]))
                continue
            for (first, start, _), (second, _, end) in itertools.pairwise(run):
                main.append(Token(first + second, start, end))
            chars.extend(Token(*item) for item in run)
        else:
            word = "".join(c for c, _, _ in run)
            if len(word) <= MAX_TOKEN:
                main.append(Token(stem(word), run[0][1], run[-1][2]))
    return main, chars


def spans(text: str) -> list[Token]:
    """Every token of `text` with its offsets, for snippets: the main stream, then the
    single characters."""
    main, chars = _tokens(text)
    return main + chars


_ASCII_LOWER_WORD = re.compile("[a-z0-9]+")


def index_text(text: str) -> str:
    """`text` as the index stores it: its tokens separated by spaces. The tokens of
    `spans`, without their offsets (the index needs none): built straight as strings,
    the work of a rebuild being mostly this."""
    if text.isascii():
        # lowercasing ASCII keeps every offset, so the words of the lowered text are
        # the lowered words of the text
        words = _ASCII_LOWER_WORD.findall(text.lower())
        return " ".join([stem(word) for word in words if len(word) <= MAX_TOKEN])
    main: list[str] = []
    chars: list[str] = []
    for kind, run in _runs(text):
        if kind == _CJK:
            if len(run) == 1:
                main.append(run[0][0])
                continue
            folded = [c for c, _, _ in run]
            main.extend(map(str.__add__, folded, folded[1:]))
            chars.extend(folded)
        else:
            word = "".join(c for c, _, _ in run)
            if len(word) <= MAX_TOKEN:
                main.append(stem(word))
    main.extend(chars)
    return " ".join(main)


_CJK_CLASS = "".join(f"{chr(low)}-{chr(high)}" for low, high in _CJK_RANGES)
_FOLDED_WORD = re.compile(f"[^\\W_{_CJK_CLASS}]+")


def matching_spans(text: str, wanted: frozenset[str]) -> list[tuple[int, int]]:
    """The offsets of the tokens of `text` that are in `wanted`, for snippets: on the
    folded text where folding keeps every character one character (nearly always),
    else by `spans`. A CJK token (a bigram or a single character: CJK characters only,
    and so never across a separator) is wherever the folded text holds it; a word is
    a run of word characters whose stem is wanted."""
    folded = text.lower() if text.isascii() else fold_text(text)
    if len(folded) != len(text):
        return [(t.start, t.end) for t in spans(text) if t.text in wanted]
    found: list[tuple[int, int]] = []
    words = set()
    for token in wanted:
        if len(token) > 2 or _kind(token[0]) != _CJK:
            words.add(token)
            continue
        at = folded.find(token)
        while at != -1:
            found.append((at, at + len(token)))
            at = folded.find(token, at + 1)
    if words:
        for match in _FOLDED_WORD.finditer(folded):
            word = match.group()
            if len(word) <= MAX_TOKEN and stem(word) in words:
                found.append(match.span())
    return found


class QueryError(ValueError):
    """A query that cannot be searched for: nothing to search, or too much."""


@dataclass(frozen=True)
class Query:
    """Clauses that must all match, each a phrase of one or more tokens."""

    clauses: tuple[tuple[str, ...], ...]

    @functools.cached_property
    def tokens(self) -> frozenset[str]:
        return frozenset(token for clause in self.clauses for token in clause)


_QUOTED = re.compile(r'"([^"]*)"?')


def parse_query(q: str) -> Query:
    """The clauses of a query: quoted phrases, then every other word or CJK run."""
    clauses: list[tuple[str, ...]] = []
    rest = []
    position = 0
    for match in _QUOTED.finditer(q):
        rest.append(q[position : match.start()])
        position = match.end()
        main, _ = _tokens(match.group(1))
        if main:
            clauses.append(tuple(token.text for token in main))
    rest.append(q[position:])
    for part in rest:
        for kind, run in _runs(part):
            if kind == _CJK:
                main, _ = _tokens("".join(c for c, _, _ in run))
                clauses.append(tuple(token.text for token in main))
            else:
                word = "".join(c for c, _, _ in run)
                if len(word) <= MAX_TOKEN:
                    clauses.append((stem(word),))
    unique = tuple(dict.fromkeys(clauses))
    if not unique:
        raise QueryError("The query has no letters or digits to search for.")
    if len(unique) > MAX_CLAUSES:
        raise QueryError(f"The query has more than {MAX_CLAUSES} words or phrases.")
    return Query(unique)
