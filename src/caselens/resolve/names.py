"""How alike two names are, token by token, across spellings and scripts.

Names are compared as their fingerprints (romanized, lower-cased, sorted words; see
``caselens.extract.fingerprint``). Each word of the shorter name is paired with its best
unused counterpart in the longer one, scored by the strongest evidence that applies:

- the same word (1.0);
- the same consonant skeleton (0.9): romanizations of scripts that write few vowels or
  no p/v (Arabic, Persian, Hebrew) meet Latin spellings this way, "bwtyn" and "putin"
  both giving ``btn``;
- the same metaphone code (0.9): "poutine" / "putin", "wladimir" / "vladimir";
- a Jaro-Winkler similarity of at least 0.85 (its value): "vladimirovic" / "vladimirovich";
- skeletons of four or more consonants one edit apart (0.8): "vlagyimir" / "wladimir";
- a Jaro-Winkler similarity of 0.75 to 0.85 (its value less 0.1), a weak likeness that
  is still better than a conflict;
- an initial against a word starting with it (0.7): "v" / "vladimir".

Titles ("president", "presidente", "prezident"…) that match nothing are ignored. The
score is the mean of the pairs, lowered when the longer name has words left over
(``Putin`` against ``Vladimir Vladimirovich Putin`` scores less than a full match) and
halved for each pair of words that conflict (``John Smith`` against ``Jane Smith``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rigour.text import jaro_winkler, levenshtein, metaphone

from caselens.extract.fingerprint import name_fingerprint

TITLES = frozenset(
    {
        "president", "presidente", "presiden", "presedintele", "predsjednik", "prezident",
        "prezydent", "prasident", "elnok", "presidentti", "mr", "mrs", "ms", "dr", "sir",
        "general", "minister", "senator",
    }
)  # fmt: skip
_VOWELS = re.compile(r"[aeiouyhw]")
_SKELETON = str.maketrans({"p": "b", "v": "f", "w": "f", "q": "k", "c": "k", "z": "s"})


@dataclass(frozen=True, slots=True)
class TokenMatch:
    left: str
    right: str
    score: float
    how: str  # same | skeleton | phonetic | similar | near skeleton | weak | initial


@dataclass(frozen=True, slots=True)
class NameComparison:
    score: float
    matches: tuple[TokenMatch, ...]
    unmatched: tuple[str, ...]

    def explain(self) -> str:
        shown = ", ".join(
            m.left if m.how == "same" else f"{m.left}~{m.right} ({m.how})" for m in self.matches
        )
        rest = f"; unmatched {' '.join(self.unmatched)}" if self.unmatched else ""
        return f"{shown}{rest}"


@lru_cache(maxsize=65536)
def tokens(name: str) -> tuple[str, ...]:
    return tuple(name_fingerprint(name).split())


@lru_cache(maxsize=65536)
def skeleton(token: str) -> str:
    """The consonants of a word, with sounds scripts write alike written one way."""
    first = token[0].translate(_SKELETON)
    rest = _VOWELS.sub("", token[1:]).translate(_SKELETON)
    found = re.sub(r"(.)\1+", r"\1", first + rest)
    return found if len(found) >= 3 else ""  # "jn" would make John and Jane one


@lru_cache(maxsize=65536)
def phonetic(token: str) -> str:
    code = str(metaphone(token)) if len(token) >= 3 else ""
    return code if len(code) >= 3 else ""  # as above: JN for both John and Jane


def token_match(left: str, right: str) -> TokenMatch | None:
    if left == right:
        return TokenMatch(left, right, 1.0, "same")
    if len(left) == 1 or len(right) == 1:
        if left[0] == right[0]:
            return TokenMatch(left, right, 0.7, "initial")
        return None
    if skeleton(left) and skeleton(left) == skeleton(right):
        return TokenMatch(left, right, 0.9, "skeleton")
    if phonetic(left) and phonetic(left) == phonetic(right):
        return TokenMatch(left, right, 0.9, "phonetic")
    similarity = float(jaro_winkler(left, right))
    if similarity >= 0.85:
        return TokenMatch(left, right, round(similarity, 3), "similar")
    a, b = skeleton(left), skeleton(right)
    if min(len(a), len(b)) >= 4 and levenshtein(a, b) <= 1:
        return TokenMatch(left, right, 0.8, "near skeleton")
    if similarity >= 0.75:
        return TokenMatch(left, right, round(similarity - 0.1, 3), "weak")
    return None


def compare_tokens(left: tuple[str, ...], right: tuple[str, ...]) -> NameComparison:
    if not left or not right:
        return NameComparison(0.0, (), left + right)
    candidates = sorted(
        (
            (found.score, i, j, found)
            for i, a in enumerate(left)
            for j, b in enumerate(right)
            if (found := token_match(a, b)) is not None
        ),
        key=lambda entry: (-entry[0], entry[1], entry[2]),
    )
    used_left: set[int] = set()
    used_right: set[int] = set()
    matches: list[TokenMatch] = []
    for _, i, j, found in candidates:
        if i in used_left or j in used_right:
            continue
        used_left.add(i)
        used_right.add(j)
        matches.append(found)
    left_over = [t for i, t in enumerate(left) if i not in used_left and t not in TITLES]
    right_over = [t for j, t in enumerate(right) if j not in used_right and t not in TITLES]
    unmatched = tuple(left_over + right_over)
    if not matches:
        return NameComparison(0.0, (), unmatched)
    # Only initials matched ("v v" against "v"): not enough to say anything.
    if all(m.how == "initial" for m in matches):
        return NameComparison(0.0, tuple(matches), unmatched)
    mean = sum(m.score for m in matches) / len(matches)
    words = len(matches) + len(unmatched)
    # A word on one side only may be a middle name left out; a word on each side that
    # matches nothing is a conflict (John Smith, Jane Smith) and halves the score.
    conflicts = min(len(left_over), len(right_over))
    score = mean * (0.6 + 0.4 * len(matches) / words) * 0.5**conflicts
    return NameComparison(round(score, 4), tuple(matches), unmatched)


def compare_names(left: str, right: str) -> NameComparison:
    return compare_tokens(tokens(left), tokens(right))


def blocking_keys(name: str) -> set[str]:
    """Keys that alike names share, for finding candidates without comparing all pairs."""
    keys: set[str] = set()
    for token in tokens(name):
        if len(token) < 3 or token in TITLES:
            continue
        keys.add(f"s:{skeleton(token)}")
        keys.add(f"m:{phonetic(token)}")
        keys.add(f"p:{token[:4]}")
    return keys
