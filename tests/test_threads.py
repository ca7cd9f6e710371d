"""Thread reconstruction: references, placeholders, cycles, duplicates, subject fallback."""

from __future__ import annotations

import json
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from caselens.mail.threads import (
    ThreadLink,
    ThreadRecord,
    base_subject,
    build_threads,
    thread_id_for,
)


def record(
    entity: str,
    mid: str | None,
    refs: tuple[str, ...] = (),
    reply: tuple[str, ...] = (),
    subject: str = "Budget",
    date: str = "2020-01-01T00:00:00",
) -> ThreadRecord:
    return ThreadRecord(entity, mid, reply, refs, subject, date)


def by_entity(links: list[ThreadLink]) -> dict[str, ThreadLink]:
    return {link.entity_id: link for link in links}


def test_reply_chain_with_missing_root_keeps_a_placeholder() -> None:
    records = [
        record("b", "<b@x>", refs=("<a@x>",), reply=("<a@x>",), subject="Re: Budget"),
        record("c", "<c@x>", refs=("<a@x>", "<b@x>"), subject="Re: Budget"),
        record("d", "<d@x>", reply=("<a@x>",), subject="AW: Budget"),
    ]
    threads, links = build_threads(records)
    assert len(threads) == 1
    thread = threads[0]
    assert thread.thread_id == thread_id_for("a@x")
    assert thread.root_message_id == "a@x"
    assert thread.entity_ids == ["b", "c", "d"]
    assert thread.placeholders == ["a@x"]
    assert by_entity(links) == {
        "b": ThreadLink("b", thread.thread_id, "a@x", None),
        "c": ThreadLink("c", thread.thread_id, "b@x", "b"),
        "d": ThreadLink("d", thread.thread_id, "a@x", None),
    }


def test_thread_id_is_stable_when_the_missing_root_arrives() -> None:
    first, _ = build_threads([record("b", "b@x", reply=("a@x",))])
    second, links = build_threads([record("b", "b@x", reply=("a@x",)), record("a", "a@x")])
    assert first[0].thread_id == second[0].thread_id
    assert second[0].placeholders == []
    assert by_entity(links)["b"].parent_entity_id == "a"


def test_reference_cycle_does_not_loop() -> None:
    records = [
        record("a", "a@x", refs=("b@x",)),
        record("b", "b@x", refs=("a@x",)),
        record("c", "c@x", refs=("c@x", "a@x")),  # even its own id among its references
    ]
    threads, links = build_threads(records)
    assert len(threads) == 1
    parents = {link.entity_id: link.parent_message_id for link in links}
    assert parents == {"a": "b@x", "b": None, "c": "a@x"}


def test_duplicated_message_ids_are_kept_apart() -> None:
    records = [
        record("one", "dup@x", date="2020-01-01T00:00:00"),
        record("two", "dup@x", date="2020-01-02T00:00:00"),
        record("reply", "r@x", reply=("dup@x",)),
    ]
    threads, links = build_threads(records)
    found = by_entity(links)
    assert found["reply"].parent_entity_id == "one"  # the earlier one holds the id
    assert found["one"].thread_id == found["reply"].thread_id
    assert found["two"].thread_id != found["one"].thread_id
    assert found["two"].parent_message_id is None
    assert sorted(len(t.entity_ids) for t in threads) == [1, 2]


def test_subject_fallback_only_for_replies_without_references() -> None:
    records = [
        record("orig", "o@x", subject="Quarterly numbers", date="2020-01-01T00:00:00"),
        record("reply", "r@x", subject="RE: Fwd: Quarterly  numbers", date="2020-01-02T00:00:00"),
        record("same", "s@x", subject="Quarterly numbers", date="2020-01-03T00:00:00"),
        record("other", "t@x", subject="Re: Something else"),
    ]
    threads, links = build_threads(records)
    found = by_entity(links)
    assert found["reply"].thread_id == found["orig"].thread_id
    assert found["reply"].by_subject and found["reply"].parent_entity_id == "orig"
    assert found["same"].thread_id != found["orig"].thread_id  # no prefix: its own thread
    assert found["other"].parent_message_id is None and not found["other"].by_subject
    assert len(threads) == 3


def test_messages_without_id() -> None:
    _, links = build_threads([record("x", None), record("y", "", reply=("q@x",))])
    found = by_entity(links)
    assert found["x"].thread_id != found["y"].thread_id
    assert found["y"].parent_message_id == "q@x"


def test_base_subject() -> None:
    assert base_subject("Re: AW: Fwd: [list] WG:  Hello   World") == "hello world"
    assert base_subject(None) == ""


def test_record_from_email_properties() -> None:
    properties = {
        "messageId": ["m@x"],
        "inReplyTo": ["p@x"],
        "subject": ["Re: hi"],
        "date": ["2020-01-01T00:00:00"],
        "headers": [json.dumps([["References", "<a@x>\n <p@x>"], ["Subject", "Re: hi"]])],
    }
    assert ThreadRecord.from_properties("e1", properties) == ThreadRecord(
        "e1", "m@x", ("p@x",), ("a@x", "p@x"), "Re: hi", "2020-01-01T00:00:00"
    )


ids = st.sampled_from([f"m{n}@x" for n in range(8)])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(ids, st.lists(ids, max_size=4), st.lists(ids, max_size=1)),
        min_size=1,
        max_size=12,
    )
)
def test_any_references_give_acyclic_order_independent_threads(
    specs: list[tuple[str, list[str], list[str]]],
) -> None:
    records = [
        record(f"e{n}", mid, refs=tuple(refs), reply=tuple(reply))
        for n, (mid, refs, reply) in enumerate(specs)
    ]
    threads, links = build_threads(records)
    shuffled = list(records)
    random.Random(1).shuffle(shuffled)
    assert build_threads(shuffled) == (threads, links)
    assert sorted(link.entity_id for link in links) == sorted(r.entity_id for r in records)
    assert sum(len(t.entity_ids) for t in threads) == len(records)
