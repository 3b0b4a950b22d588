"""Search: query parsing, safety against FTS5 syntax, ranking and filters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aimem.models import Filters
from aimem.services import Archive
from aimem.store import search as fts

CONVERSATIONS = [
    {"source": "chatgpt", "source_id": "deploy", "title": "Deploying the walrus service",
     "created_at": "2024-05-01T12:00:00Z", "tags": ["work"],
     "messages": [
         {"role": "user", "text": "How do I deploy the walrus service to Kubernetes?"},
         {"role": "assistant", "text": "Build the image, push it, then kubectl apply the "
                                       "walrus deployment manifest."},
         {"role": "user", "text": "Thanks, that worked."}]},
    {"source": "claude", "source_id": "zoo", "title": "Walrus facts",
     "created_at": "2024-06-01T12:00:00Z",
     "messages": [
         {"role": "user", "text": "Tell me about the walrus at the zoo."},
         {"role": "assistant", "text": "A walrus can weigh over a tonne."}]},
    {"source": "chatgpt", "source_id": "deploy-fail", "title": "Failed deploys",
     "created_at": "2024-07-01T12:00:00Z",
     "messages": [
         {"role": "user", "text": "Why does every deploy of ours fail on Fridays?"},
         {"role": "assistant", "text": "Probably because of the freeze: what's C++ got to do "
                                       "with it? Nothing.", "author": "gpt-4o"}]},
    {"source": "locomo", "source_id": "s1", "title": "Caroline & Melanie",
     "created_at": "2023-05-08T13:00:00Z",
     "messages": [
         {"role": "user", "author": "Caroline", "text": "I went to a support group yesterday."},
         {"role": "assistant", "author": "Melanie", "text": "That's brave, how was it?"}]},
]


@pytest.fixture
def mem(tmp_path: Path):  # type: ignore[no-untyped-def]
    src = tmp_path / "data.jsonl"
    lines = [json.dumps(c) for c in CONVERSATIONS]
    lines.append(json.dumps({"type": "memory", "text": "Deploys go out on Tuesdays only.",
                             "kind": "instruction", "tags": ["work"]}))
    src.write_text("\n".join(lines) + "\n")
    with Archive.open(tmp_path / "s.db") as m:
        m.import_paths([str(src)])
        yield m


def texts(hits: list[dict]) -> list[str]:  # type: ignore[type-arg]
    return [h["text"] for h in hits]


def test_parse_operators_phrases_prefix_exclusion() -> None:
    q = fts.parse('deploy "walrus service" kube* -friday title:walrus role:user source:chatgpt '
                  'tag:work what the')
    assert [t.fts() for t in q.terms] == ['"deploy"', '"walrus service"', '"kube" *']
    assert [t.fts() for t in q.excluded] == ['"friday"']
    assert q.roles == ["user"] and q.sources == ["chatgpt"] and q.tags == ["work"]
    assert q.title_query() == 'title : ("walrus")'
    assert q.all_words() == '("deploy" AND "walrus service" AND "kube" *) NOT "friday"'


def test_stopwords_only_dropped_when_something_is_left() -> None:
    assert [t.words for t in fts.parse("what is the walrus").terms] == [["walrus"]]
    assert [t.words for t in fts.parse("what is").terms] == [["what"], ["is"]]
    assert [t.words for t in fts.parse('"what is"').terms] == [["what", "is"]]


def test_punctuation_becomes_phrases() -> None:
    q = fts.parse("node.js C++ foo-bar x:y")
    assert [t.fts() for t in q.terms] == ['"node js"', '"C"', '"foo bar"', '"x y"']


def test_all_words_rank_first_then_any_word(mem: Archive) -> None:
    hits = mem.search("deploy walrus", kinds=["message"])
    both = [h for h in hits if "walrus" in h["text"].lower() and "deploy" in h["text"].lower()]
    assert both and hits[: len(both)] == both  # every all-words hit before any one-word hit
    assert {h["text"] for h in hits} >= {"A walrus can weigh over a tonne.",
                                         "Why does every deploy of ours fail on Fridays?"}


def test_phrase_prefix_and_exclusion(mem: Archive) -> None:
    # the message itself first; its neighbours may follow (their context holds the phrase)
    assert texts(mem.search('"weigh over a tonne"'))[0] == "A walrus can weigh over a tonne."
    assert "Build the image, push it, then kubectl apply the walrus deployment manifest." in \
        texts(mem.search("kubect*"))
    hits = mem.search("walrus -zoo -tonne", kinds=["message"])
    assert hits and not any("zoo" in t or "tonne" in t for t in texts(hits))


def test_stemming(mem: Archive) -> None:
    assert any("Deploys go out" in t for t in texts(mem.search("deploying")))


def test_author_is_searchable(mem: Archive) -> None:
    hits = mem.search("Caroline support group")
    assert hits[0]["author"] == "Caroline"


def test_reply_found_by_what_it_answers(mem: Archive) -> None:
    """'Thanks, that worked.' has none of the words, but follows the message that has them."""
    assert "Thanks, that worked." in texts(mem.search("kubectl manifest", limit=10))


def test_filters(mem: Archive) -> None:
    only = mem.search("walrus", Filters(sources=["claude"]))
    assert only and {h["source"] for h in only} == {"claude"}
    users = mem.search("walrus", Filters(roles=["user"]))
    assert users and {h["role"] for h in users} == {"user"}
    assert {h["kind"] for h in users} == {"message"}  # role filters leave memories out
    tagged = mem.search("deploy", Filters(tags=["work"]))
    assert {h["title"] for h in tagged if h["kind"] == "message"} == {
        "Deploying the walrus service"}
    assert any(h["kind"] == "memory" for h in tagged)
    from aimem.timeutil import parse_when
    june = mem.search("walrus", Filters(since=parse_when("2024-06-01"),
                                        until=parse_when("2024-06-30", end=True)))
    assert june and {h["title"] for h in june} == {"Walrus facts"}
    assert {h["role"] for h in mem.search("walrus role:assistant")} == {"assistant"}
    assert {h["title"] for h in mem.search("walrus title:facts")} == {"Walrus facts"}


def test_memory_hits_have_the_documented_shape(mem: Archive) -> None:
    hit = [h for h in mem.search("tuesdays") if h["kind"] == "memory"][0]
    assert hit["conversation_id"] is None and hit["role"] is None
    assert hit["text"] == "Deploys go out on Tuesdays only."
    assert fts.MARK_OPEN in hit["snippet"]


def test_conversation_kind(mem: Archive) -> None:
    hits = mem.search("title:walrus", kinds=["conversation"])
    assert {h["title"] for h in hits} == {"Deploying the walrus service", "Walrus facts"}
    assert all(h["kind"] == "conversation" for h in hits)


def test_message_hit_shape(mem: Archive) -> None:
    hit = mem.search("tonne")[0]
    assert list(hit) == ["kind", "id", "conversation_id", "source", "source_id", "title", "role",
                         "author", "created_at", "score", "snippet", "text", "found_by"]
    assert hit["created_at"].endswith("Z") and hit["score"] >= 0


HOSTILE = ['C++', '"foo', 'NOT', 'foo AND', '(', '*', 'x:y', 'NEAR(a b)', 'c#', '-', "'",
           "'; DROP TABLE messages; --", '   ', '"', '""', '^', 'title:', 'title:"', '-"',
           '* OR *', 'a NOT', '\x00', 'role:', '{a b}', 'col:"x" AND', '$@!%', "what's up?"]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_never_raise(mem: Archive, query: str) -> None:
    assert isinstance(mem.search(query), list)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.sampled_from(list('ab "*-:()^+.\'\\NOTANDR#\x00é漢')), max_size=30)
       | st.text(max_size=30))
def test_no_input_raises_an_sqlite_error(mem: Archive, query: str) -> None:
    for kinds in (["message", "memory"], ["conversation"]):
        assert isinstance(mem.search(query, kinds=kinds), list)


def test_search_within_one_conversation(tmp_path: Path) -> None:
    """A one-conversation search bounds the full-text scan by the rowids of the
    conversation's messages: all of its messages are found, none of its neighbours'."""
    def conv(sid: str, texts: list[str]) -> str:
        return json.dumps({"source": "chatgpt", "source_id": sid, "title": sid,
                           "messages": [{"role": "user", "text": t} for t in texts]})

    src = tmp_path / "a.jsonl"
    src.write_text("\n".join([conv("before", ["otter elsewhere"]),
                              conv("a", ["otter one", "otter two", "otter three"]),
                              conv("after", ["otter again", "three otters"])]) + "\n")
    with Archive.open(tmp_path / "c.db") as mem:
        mem.import_paths([str(src)])
        a_id = next(c["id"] for c in mem.list_conversations() if c["title"] == "a")
        only_a = Filters(conversation=a_id)
        assert sorted(texts(mem.search("otter", only_a))) == ["otter one", "otter three",
                                                               "otter two"]
        assert texts(mem.search("three", only_a))[0] == "otter three"  # (its neighbour next)
        assert mem.search("elsewhere", only_a) == [] and mem.search("again", only_a) == []
        assert mem.search("otter", Filters(conversation="nosuchconversation")) == []
