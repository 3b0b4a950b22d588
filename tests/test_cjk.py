"""Word search inside Chinese, Japanese and Korean text (the *_cjk indexes)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aimem.services import Archive
from aimem.store import cjk
from aimem.store import search as fts
from conftest import run_aimem

CJK_INDEXES = ("messages_cjk", "memories_cjk", "conversations_cjk")
OPEN, CLOSE = fts.MARK_OPEN, fts.MARK_CLOSE

CONVERSATIONS = [
    {"source": "chatgpt", "source_id": "zh", "title": "数据库迁移计划",
     "created_at": "2025-01-02T10:00:00Z",
     "messages": [
         {"role": "user", "text": "我们需要更新数据库配置。"},
         {"role": "assistant", "text": "好的。先备份，再修改连接字符串，最后重启服务。"}]},
    {"source": "chatgpt", "source_id": "ko", "title": "한국어 대화",
     "created_at": "2025-01-03T10:00:00Z",
     "messages": [
         {"role": "user", "text": "데이터베이스를 업데이트하는 방법을 알려주세요."},
         {"role": "assistant", "text": "먼저 백업을 만드세요."}]},
    {"source": "claude", "source_id": "en", "title": "English only",
     "created_at": "2025-01-04T10:00:00Z",
     "messages": [
         {"role": "user", "text": "How do I change the database config?"},
         {"role": "assistant", "text": "Edit config.yaml and restart."}]},
]


def write_jsonl(path: Path, objs: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(o, ensure_ascii=False) + "\n" for o in objs),
                    encoding="utf-8")
    return path


def claude_code_session(path: Path) -> Path:
    """A Claude Code session log in Japanese (kana and kanji inside sentences)."""
    sid = "9a8b7c6d-1111-4222-8333-944455556666"
    base = {"isSidechain": False, "userType": "external", "cwd": "/home/dev/app",
            "version": "2.0.14", "gitBranch": "main", "sessionId": sid}
    lines = [
        {**base, "parentUuid": None, "type": "user", "uuid": "u1",
         "timestamp": "2026-03-02T09:00:00.000Z",
         "message": {"role": "user", "content": "依存パッケージをアップデートしてください。"}},
        {**base, "parentUuid": "u1", "type": "assistant", "uuid": "a1",
         "timestamp": "2026-03-02T09:00:05.000Z",
         "message": {"id": "msg_1", "type": "message", "role": "assistant",
                     "model": "claude-sonnet-4-5",
                     "content": [{"type": "text", "text":
                                  "了解しました。package.json の依存関係をアップデートし、"
                                  "テストを実行します。検索機能も確認します。"}],
                     "stop_reason": "end_turn", "usage": {"input_tokens": 10,
                                                          "output_tokens": 20}}},
    ]
    path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines),
                    encoding="utf-8")
    return path


def integrity(db: Path) -> None:
    """FTS5 'integrity-check' of the CJK indexes against their content (raises if off)."""
    with Archive.open(db) as m:
        for t in CJK_INDEXES:
            m.store.execute(f"INSERT INTO {t}({t}, rank) VALUES('integrity-check', 1)")


def indexed(db: Path, table: str) -> int:
    with Archive.open(db) as m:
        return m.store.execute(f"SELECT count(*) FROM {table}_docsize").fetchone()[0]


@pytest.fixture
def mem(tmp_path: Path):  # type: ignore[no-untyped-def]
    src = write_jsonl(tmp_path / "cjk.jsonl", CONVERSATIONS)
    with Archive.open(tmp_path / "c.db") as m:
        m.import_paths([str(src), str(claude_code_session(tmp_path / "session.jsonl"))])
        yield m


def texts(hits: list[dict[str, Any]]) -> list[str]:
    return [h["text"] for h in hits]


# -- the index form and the query form --------------------------------------------------


def test_index_and_query_forms() -> None:
    assert cjk.index_text("更新数据库config").split() == ["更新", "新数", "数据", "据库", "库",
                                                           "config"]
    assert cjk.index_text("a茶b").split() == ["a", "茶", "b"]
    assert cjk.index_text("no cjk here") == "no cjk here"
    assert not cjk.has_cjk("café ñ — “quotes” 😀") and cjk.has_cjk("a한b")
    assert cjk.query(["数据库"], False) == '"数据" + "据库"'
    assert cjk.query(["茶"], False) == '"茶" *'
    assert cjk.query(["数据库config"], False) == '"数据" + "据库" + "库" + "config"'
    assert cjk.query(["config", "数"], False) == '"config" + "数" *'
    q = fts.parse("数据库 config -旧")
    assert q.cjk and q.latin_any_word() == '"config"' and q.cjk_excluded() == '"旧" *'


# -- finding a word inside a sentence ---------------------------------------------------


def test_chinese_word_inside_a_sentence(mem: Archive) -> None:
    for word in ("数据库", "数据", "配置", "更新数据库", "库"):
        assert "我们需要更新数据库配置。" in texts(mem.search(word, kinds=["message"])), word
    assert not mem.search("数据表", kinds=["message"])
    assert "好的。先备份，再修改连接字符串，最后重启服务。" in texts(mem.search("字符串"))


def test_japanese_kana_and_kanji_in_a_claude_code_session(mem: Archive) -> None:
    hits = mem.search("アップデート", kinds=["message"])
    assert {h["source"] for h in hits} == {"claude-code"}
    assert len(hits) == 2  # the prompt and the answer
    assert any(f"{OPEN}アップデート{CLOSE}" in h["snippet"] for h in hits)
    assert texts(mem.search("検索", kinds=["message"])) == [
        "了解しました。package.json の依存関係をアップデートし、テストを実行します。"
        "検索機能も確認します。"]
    assert mem.search("依存関係", kinds=["message"])[0]["role"] == "assistant"


def test_korean_word_with_a_particle_attached(mem: Archive) -> None:
    hits = mem.search("데이터베이스", kinds=["message"])
    assert texts(hits) == ["데이터베이스를 업데이트하는 방법을 알려주세요."]
    assert f"{OPEN}데이터베이스{CLOSE}" in hits[0]["snippet"]
    assert texts(mem.search("백업", kinds=["message"])) == ["먼저 백업을 만드세요."]


def test_mixed_query_all_words_first_then_any_word(mem: Archive) -> None:
    hits = mem.search("数据库 config", kinds=["message"])
    assert texts(hits)[:2] and "我们需要更新数据库配置。" in texts(hits)
    assert "Edit config.yaml and restart." in texts(hits)  # English rows still found by config
    # a row with both words comes first
    src = write_jsonl(mem.path.parent / "both.jsonl", [
        {"source": "chatgpt", "source_id": "both", "title": "x",
         "messages": [{"role": "user", "text": "把数据库的 config 文件发给我"}]}])
    mem.import_paths([str(src)])
    hits = mem.search("数据库 config", kinds=["message"])
    assert hits[0]["text"] == "把数据库的 config 文件发给我"
    assert f"{OPEN}数据库{CLOSE}" in hits[0]["snippet"] and f"{OPEN}config{CLOSE}" in hits[0]["snippet"]
    # exclusions work on both indexes
    assert "Edit config.yaml and restart." in texts(mem.search("config -数据库"))
    assert not any("数据库" in t for t in texts(mem.search("config -数据库")))
    assert not any("数据库" in t for t in texts(mem.search("数据 -数据库 -数据表")))


def test_titles_and_title_operator(mem: Archive) -> None:
    hits = mem.search("迁移", kinds=["conversation"])
    assert [h["title"] for h in hits] == ["数据库迁移计划"]
    assert hits[0]["snippet"] == f"数据库{OPEN}迁移{CLOSE}计划"
    hits = mem.search("数据库 title:迁移", kinds=["message"])
    assert texts(hits) == ["我们需要更新数据库配置。"]
    assert not mem.search("数据库 title:计算", kinds=["message"])


def test_memories(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    assert run_aimem("--db", str(db), "remember", "我喜欢喝乌龙茶").returncode == 0
    out = run_aimem("--db", str(db), "search", "乌龙茶", "--json", check=True)
    hits = json.loads(out.stdout)
    assert [h["text"] for h in hits] == ["我喜欢喝乌龙茶"]
    assert "我喜欢喝[乌龙茶]" == hits[0]["snippet"]
    with Archive.open(db) as m:
        mid = m.search("乌龙茶")[0]["id"]
        m.update_memory(mid, text="我现在喜欢喝红茶")
        assert not m.search("乌龙茶") and m.search("红茶")[0]["id"] == mid
    integrity(db)
    with Archive.open(db) as m:
        m.forget([mid])
        assert not m.search("红茶")
    integrity(db)
    assert indexed(db, "memories_cjk") == 0


# -- ranking and snippets ---------------------------------------------------------------


def test_ranking_twice_and_shorter_first(tmp_path: Path) -> None:
    filler = "今天天气很好，我们去公园散步，然后吃了午饭，下午回家休息。" * 4
    msgs = [filler + "数据库出了问题。", "数据库出了问题，数据库需要重启。", "数据库出了问题。"]
    src = write_jsonl(tmp_path / "r.jsonl", [
        {"source": "chatgpt", "source_id": f"r{i}", "title": f"t{i}",
         "messages": [{"role": "user", "text": t}]} for i, t in enumerate(msgs)])
    with Archive.open(tmp_path / "r.db") as m:
        m.import_paths([str(src)])
        hits = m.search("数据库", kinds=["message"])
        assert texts(hits) == [msgs[1], msgs[2], msgs[0]]
        assert hits[0]["score"] > hits[1]["score"] > hits[2]["score"]


def test_snippet_marks_the_word_in_a_long_text(tmp_path: Path) -> None:
    text = ("前面的内容。" * 40) + "这里需要更新数据库配置。" + ("后面的内容。" * 40)
    src = write_jsonl(tmp_path / "s.jsonl", [
        {"source": "chatgpt", "source_id": "s", "title": "t",
         "messages": [{"role": "user", "text": text}]}])
    with Archive.open(tmp_path / "s.db") as m:
        m.import_paths([str(src)])
        snip = m.search("数据库")[0]["snippet"]
    assert snip.startswith("…") and snip.endswith("…")
    assert f"更新{OPEN}数据库{CLOSE}配置" in snip
    assert snip.count(OPEN) == 1 and len(snip) < 80
    plain = snip.replace(OPEN, "").replace(CLOSE, "").strip("…")
    assert plain in text


def test_snippet_function_edges() -> None:
    assert cjk.snippet("", ["数据"], "[", "]") == ""
    assert cjk.snippet("数据", ["数据"], "[", "]") == "[数据]"
    assert cjk.snippet("用Python写数据库", ["python", "数据库"], "[", "]") == "用[Python]写[数据库]"
    assert cjk.snippet("!!!", ["数据"], "[", "]") == "!!!"


# -- keeping the index in step ----------------------------------------------------------


def test_forget_and_reimport_keep_the_index_in_step(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    src = write_jsonl(tmp_path / "k.jsonl", CONVERSATIONS)
    run_aimem("--db", str(db), "import", str(src), check=True)
    integrity(db)
    assert indexed(db, "messages_cjk") == 4 and indexed(db, "conversations_cjk") == 2
    # a newer copy replaces the messages: the old words go, the new ones are found
    changed = json.loads(json.dumps(CONVERSATIONS))
    changed[0]["messages"][1]["text"] = "已经完成迁移，服务正常运行。"
    changed[0]["title"] = "数据库升级"
    changed[0]["summary"] = "讨论了备份策略"
    write_jsonl(src, changed)
    run_aimem("--db", str(db), "import", str(src), check=True)
    integrity(db)
    with Archive.open(db) as m:
        assert not m.search("字符串") and not m.search("迁移计划", kinds=["conversation"])
        assert m.search("正常运行")[0]["text"] == "已经完成迁移，服务正常运行。"
        assert [h["title"] for h in m.search("备份策略", kinds=["conversation"])] == ["数据库升级"]
        zh = m.search("正常运行")[0]["conversation_id"]
    out = run_aimem("--db", str(db), "forget", zh, "--yes")
    assert out.returncode == 0, out.stderr
    integrity(db)
    assert indexed(db, "messages_cjk") == 2 and indexed(db, "conversations_cjk") == 1
    out = run_aimem("--db", str(db), "search", "数据库")
    assert "数据库" not in out.stdout.decode()


def test_migration_backfills_an_existing_database(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A database made before m005 (the schema of then, rows written as they were) is
    indexed when a current aimem opens it."""
    from aimem.store import migrations

    db = tmp_path / "old.db"
    names = [f.__name__ for f in migrations.MIGRATIONS]
    with monkeypatch.context() as mp:
        mp.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:names.index("m005_cjk_index")])
        with Archive.open(db) as m:
            m.store.execute("INSERT INTO conversations (id, source, title, imported_at) "
                            "VALUES ('zh', 'chatgpt', '数据库迁移计划', 0)")
            m.store.execute("INSERT INTO messages (id, conversation, position, role, text) "
                            "VALUES ('m1', 1, 0, 'user', '我们需要更新数据库配置。')")
            m.store.execute("INSERT INTO memories (id, text, kind, text_hash, created_at, "
                            "updated_at) VALUES ('k1', '我喜欢喝乌龙茶', 'preference', 'h', 0, 0)")
        conn = sqlite3.connect(db)
        assert not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'messages_cjk'").fetchone()
        conn.close()
    with Archive.open(db) as m:  # migrates
        assert texts(m.search("数据库", kinds=["message"])) == ["我们需要更新数据库配置。"]
        assert texts(m.search("乌龙茶")) == ["我喜欢喝乌龙茶"]
        assert [h["title"] for h in m.search("迁移计划", kinds=["conversation"])] == ["数据库迁移计划"]
    integrity(db)


def test_english_only_database_has_empty_cjk_indexes(tmp_path: Path) -> None:
    db = tmp_path / "e.db"
    src = write_jsonl(tmp_path / "e.jsonl", [CONVERSATIONS[2]])
    run_aimem("--db", str(db), "import", str(src), check=True)
    assert all(indexed(db, t) == 0 for t in CJK_INDEXES)
    with Archive.open(db) as m:
        assert texts(m.search("config", kinds=["message"]))  # unchanged path
        assert not m.search("数据库")


# -- every front end --------------------------------------------------------------------


def test_cli_search_from_stdin(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.db")
    run_aimem("--db", db, "import", "-", input="User: 我们需要更新数据库配置。\n".encode(),
              check=True)
    out = run_aimem("--db", db, "search", "数据库", check=True).stdout.decode()
    assert "我们需要更新数据库配置。" in out


def test_inject_returns_the_cjk_hit(mem: Archive) -> None:
    block = mem.inject("数据库")
    assert "我们需要更新数据库配置。" in block.split("CONVERSATION EXCERPTS")[1]
    block = mem.inject("アップデート")
    assert "依存パッケージをアップデートしてください。" in block


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_mcp_search_tools_return_the_cjk_hit(tmp_path: Path) -> None:
    from mcp import Client

    from aimem.mcp.server import build_server

    db = tmp_path / "mcp.db"
    with Archive.open(db) as m:
        m.import_paths([str(write_jsonl(tmp_path / "z.jsonl", CONVERSATIONS))])
        m.remember("我喜欢喝乌龙茶", kind="preference")
    async with Client(build_server(db, tools="all"), raise_exceptions=True) as c:
        r = await c.call_tool("search_conversations", {"query": "数据库"})
        hits = r.structured_content["hits"]  # type: ignore[index]
        assert hits[0]["text"] == "我们需要更新数据库配置。"
        assert "[数据库]" in hits[0]["snippet"]
        r = await c.call_tool("search_memory", {"query": "乌龙茶"})
        assert r.structured_content["hits"][0]["text"] == "我喜欢喝乌龙茶"  # type: ignore[index]


def test_tui_shows_the_cjk_hit(mem: Archive) -> None:
    import asyncio

    from test_tui import make_app, results, settle

    db = mem.path
    mem.close()

    async def body() -> None:
        app = make_app(db, query="アップデート")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            rows = results(app).rows
            assert rows and all(r["source"] == "claude-code" for r in rows if r["kind"] == "message")
            assert any(f"{OPEN}アップデート{CLOSE}" in r["snippet"] for r in rows)

    asyncio.run(body())


# -- no input breaks it -----------------------------------------------------------------

_ALPHABET = st.sampled_from(list("数据库配置更新茶の検索アップデートー데이터베이스한 abcXYZ09_-*\"():."
                                 "。、・「」 \t\n\x00é😀"))


@pytest.fixture(scope="module")
def fuzz_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("fuzz") / "f.db"
    src = write_jsonl(db.parent / "f.jsonl", CONVERSATIONS)
    with Archive.open(db) as m:
        m.import_paths([str(src)])
        m.remember("我喜欢喝乌龙茶 and config")
    return db


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.lists(st.one_of(st.text(_ALPHABET, max_size=6), st.sampled_from(
    ["title:", "role:", "-", "*", '"', " ", "数据库", "茶", "config", "アップデート"])),
    max_size=8).map("".join), text=st.text(_ALPHABET, max_size=60))
def test_random_mixed_strings_never_raise(fuzz_db: Path, query: str, text: str) -> None:
    with Archive.open(fuzz_db) as m:
        for kinds in (["message", "memory"], ["conversation"]):
            for h in m.search(query, kinds=kinds):
                assert isinstance(h["snippet"], str)
    words = [w for t in fts.parse(query).terms for w in t.words]
    snip = cjk.snippet(text, words, OPEN, CLOSE)
    assert snip.replace(OPEN, "").replace(CLOSE, "").strip("…") in text
    assert cjk.has_cjk(cjk.index_text(text)) == cjk.has_cjk(text)
