"""Exports for people: JSON, Markdown (one document, or a folder), HTML, CSV; filters apply."""

from __future__ import annotations

import csv
import io
import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import FIXTURES, run_aimem


@pytest.fixture
def loaded(db: Path) -> Path:
    run_aimem("--db", str(db), "import", str(FIXTURES / "chatgpt" / "edge_cases.json"),
              str(FIXTURES / "jsonl" / "sample.jsonl"), check=True)
    run_aimem("--db", str(db), "remember", "Likes <b>bold</b> & \"quotes\"", check=True)
    return db


def export(db: Path, *args: str) -> bytes:
    return run_aimem("--db", str(db), "export", *args, check=True).stdout


def test_json_is_one_document_with_memories(loaded: Path) -> None:
    doc = json.loads(export(loaded, "--format", "json"))
    assert len(doc["conversations"]) == 4 and len(doc["memories"]) == 3
    jsonl = [json.loads(line) for line in export(loaded).splitlines()]
    assert doc["conversations"] == [o for o in jsonl if o["type"] == "conversation"]
    only = json.loads(export(loaded, "--format", "json", "--source", "claude"))
    assert [c["source"] for c in only["conversations"]] == ["claude"]


def test_markdown_document_and_folder_with_front_matter(loaded: Path, tmp_path: Path) -> None:
    md = export(loaded, "--format", "markdown").decode()
    assert md.startswith("# aimem export")
    assert "## Why does my walrus deploy fail on Tuesdays?" in md and "## Memories" in md
    out = tmp_path / "notes"
    proc = run_aimem("--db", str(loaded), "export", "--format", "markdown", "-o", str(out),
                     check=True)
    assert b"wrote 4 files" in proc.stderr and proc.stdout == b""
    files = sorted(out.glob("*.md"))
    assert len(files) == 4
    walrus = next(f for f in files if "walrus" in f.name)
    text = walrus.read_text()
    head = text.split("---\n")[1]
    assert 'title: "Why does my walrus deploy fail on Tuesdays?"' in head
    assert "source: chatgpt" in head and "date: 2023-11-14T22:13:20Z" in head and "tags: [" in head
    assert "## assistant" in text and "kubectl get cronjobs" in text


def test_html_is_one_escaped_page_with_contents(loaded: Path) -> None:
    page = export(loaded, "--format", "html").decode()

    class Collect(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.tags: list[str] = []
            self.hrefs: list[str] = []
            self.ids: list[str] = []

        def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
            self.tags.append(tag)
            d = dict(attrs)
            if tag == "a" and d.get("href", "").startswith("#c-"):
                self.hrefs.append(d["href"][1:])
            if "id" in d:
                self.ids.append(d["id"])

    p = Collect()
    p.feed(page)
    assert "b" not in p.tags  # the memory's <b> is text, not markup
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &quot;quotes&quot;" in page
    assert len(p.hrefs) == 4 and set(p.hrefs) <= set(p.ids)  # every contents link resolves
    assert "<script" not in page and "http" not in page.split("<body>")[0]  # self-contained


def test_csv_one_row_per_message_and_role_filter(loaded: Path) -> None:
    rows = list(csv.DictReader(io.StringIO(export(loaded, "--format", "csv").decode())))
    stats = json.loads(run_aimem("--db", str(loaded), "stats", "--json", check=True).stdout)
    assert len(rows) == stats["messages"]
    assert rows[0].keys() == {"conversation_id", "conversation_title", "source", "message_id",
                              "position", "role", "author", "created_at", "text"}
    users = list(csv.DictReader(io.StringIO(
        export(loaded, "--format", "csv", "--role", "user").decode())))
    assert users and {r["role"] for r in users} == {"user"}


def test_bad_format_and_output_errors(loaded: Path, tmp_path: Path) -> None:
    bad = run_aimem("--db", str(loaded), "export", "--format", "pdf")
    assert bad.returncode == 1 and b"unknown export format" in bad.stderr
    f = tmp_path / "file.txt"
    f.write_text("x")
    clash = run_aimem("--db", str(loaded), "export", "--format", "markdown", "-o", str(f))
    assert clash.returncode == 1 and b"markdown exports to a folder" in clash.stderr
    out = tmp_path / "all.html"
    run_aimem("--db", str(loaded), "export", "--format", "html", "-o", str(out), check=True)
    assert out.read_bytes() == export(loaded, "--format", "html")
