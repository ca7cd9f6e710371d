"""Name comparison across spellings and scripts, and the scoring of pairs."""

from __future__ import annotations

import pytest

from caselens.resolve.groups import canonical_groups, latest, merges
from caselens.resolve.names import compare_names, skeleton
from caselens.resolve.records import Record
from caselens.resolve.score import THRESHOLD, score_pair


@pytest.mark.parametrize(
    "variant",
    [
        "Владимир Путин",
        "PUTIN, Vladimir Vladimirovich",
        "Wladimir Poetin",
        "فلاديمير بوتين",
        "Presidente Vladimir Putin",
        "Vladimir V. Putin",
    ],
)
def test_spellings_and_scripts_of_one_name_match(variant: str) -> None:
    assert compare_names(variant, "Vladimir Putin").score >= THRESHOLD


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("John Smith", "Jane Smith"),
        ("Vladimir Putin", "Vladimir Zelensky"),
        ("Maria Osetrova", "Vladimir Putin"),
        ("V. V.", "Vladimir Vladimirovich"),
    ],
)
def test_different_names_do_not(left: str, right: str) -> None:
    assert compare_names(left, right).score < THRESHOLD


def test_consonant_skeleton_joins_vowelless_romanizations() -> None:
    assert skeleton("bwtyn") == skeleton("putin") == "btn"
    assert skeleton("jn") == ""  # too short to say anything


def test_shared_identifiers_add_up_with_the_name() -> None:
    left = Record("a", "Person", ["V. Putin"], {("phone", "+79161234567")})
    right = Record("b", "UserAccount", ["Vova"], {("phone", "+79161234567"), ("email", "v@x.ru")})
    alone = score_pair(left, right)
    assert alone.score == pytest.approx(0.8)  # the phone only
    right.identifiers.add(("email", "v@x.ru"))
    left.identifiers.add(("email", "v@x.ru"))
    both = score_pair(left, right)
    assert both.score == pytest.approx(1 - 0.2 * 0.05)
    assert "both hold v@x.ru" in both.explain()


def test_latest_judgement_wins_and_different_splits_a_group() -> None:
    made = [("a", "b", "same"), ("b", "c", "same"), ("a", "d", "unsure")]
    assert canonical_groups(latest(made)) == {"a": ["a", "b", "c"]}
    assert merges(canonical_groups(latest(made))) == {"b": "a", "c": "a"}
    made.append(("b", "c", "different"))
    assert canonical_groups(latest(made)) == {"a": ["a", "b"]}
