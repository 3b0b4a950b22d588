"""Google Takeout Gemini Apps activity: JSON and HTML, grouping, stable ids, localized times."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from aimem.importers import detect, gemini_takeout, input_from_bytes, input_from_path
from aimem.importers.gemini_takeout import html_to_text, parse_local_time
from aimem.models import Conversation, Skipped
from aimem.timeutil import iso, to_epoch
from conftest import FIXTURES, SHARED_FIXTURES, run_aimem

HERE = FIXTURES / "gemini_takeout"
HTML = HERE / "MyActivity.html"
SHARED_JSON = SHARED_FIXTURES / "gemini_takeout" / "synthetic_MyActivity.json"


def parse_input(inp) -> tuple[list[Conversation], list[Skipped]]:  # type: ignore[no-untyped-def]
    items = list(gemini_takeout.parse(inp))
    return ([i for i in items if isinstance(i, Conversation)],
            [i for i in items if isinstance(i, Skipped)])


def parse(path: Path) -> tuple[list[Conversation], list[Skipped]]:
    return parse_input(input_from_path(path))


def parse_json(entries: list[dict]) -> tuple[list[Conversation], list[Skipped]]:  # type: ignore[type-arg]
    return parse_input(input_from_bytes("MyActivity.json", json.dumps(entries).encode()))


def texts(c: Conversation) -> list[tuple[str, str]]:
    return [(m.role, m.text) for m in c.messages]


def times(c: Conversation) -> list[str | None]:
    return [iso(m.created_at) for m in c.messages]


def entry(title: str, time: str, *answers: str, url: str | None = None,
          header: str = "Gemini Apps") -> dict:  # type: ignore[type-arg]
    e: dict = {"header": header, "title": title, "time": time,  # type: ignore[type-arg]
               "products": [header], "activityControls": ["Gemini Apps Activity"]}
    if answers:
        e["safeHtmlItem"] = [{"html": a} for a in answers]
    if url:
        e["details"] = [{"name": f"https://gemini.google.com/app/{url}"}]
    return e


# --- the shared JSON fixture ----------------------------------------------------------


def test_shared_json_fixture() -> None:
    convs, skipped = parse(SHARED_JSON)
    assert [(s.where.rsplit(": ", 1)[1], s.reason) for s in skipped] == [
        ("entry 5 (2026-07-30T12:00:00Z)", "not a prompt: Created Canvas “Trip plan”"),
        ("entry 6 (2026-07-30T11:59:00Z)", "not a prompt: Selected preferred draft"),
        ("entry 7 (2026-07-30T11:58:00Z)", "not a prompt: Gave feedback: Good response"),
        ("entry 8 (2026-07-30T11:57:00Z)", "not a prompt: Used Gemini Apps"),
    ]
    assert [(c.extra or {}).get("grouping") for c in convs] == ["time", "time", "time", "url"]
    france, thesis, image, wah = convs
    assert texts(france) == [("user", "What's the capital of France?"),
                             ("assistant", "The capital of France is **Paris**.")]
    assert times(france) == ["2024-06-15T14:30:45Z"] * 2  # milliseconds cut to the second
    assert texts(thesis) == [("user", "summarise my thesis draft\n[attached: thesis.pdf]"),
                             ("assistant", "### Summary\n\n- Point one")]
    assert thesis.messages[0].extra == {"attachments": ["thesis.pdf"]}
    assert [m.author for m in thesis.messages] == [None, "ThesisHelper"]  # the Gem
    # The image-only prompt "Prompted " keeps its attachment as text.
    assert texts(image) == [("user", "[attached: image_89b1bd.png]"),
                            ("assistant", "That is a Mu-Tron III pedal.")]
    # Two entries with the same conversation URL: one conversation, oldest first, and a
    # regeneration (two safeHtmlItem answers) as two assistant messages.
    assert wah.source_id == "995a37b426489105"
    assert wah.extra == {"grouping": "url", "url": "https://gemini.google.com/app/995a37b426489105"}
    assert texts(wah) == [
        ("user", "what is auto-wah used for?"),
        ("assistant", "An **auto-wah** is an envelope filter."),
        ("assistant", "(regenerated draft) An auto-wah sweeps a filter based on playing dynamics."),
        ("user", "what is real song usage of that effect in solo"),
        ("assistant", "While the traditional wah pedal dominates rock music, the **auto-wah** is "
                      "heavily used in solos."),
    ]
    assert [(m.extra or {}).get("draft") for m in wah.messages] == [None, 1, 2, None, None]
    assert times(wah) == ["2026-08-02T20:24:25Z"] * 3 + ["2026-08-02T20:25:53Z"] * 2
    # Ids: no vendor ids, so hash(provider, time, prompt); answers hang off their prompt.
    key = wah.messages[0].source_id
    assert key and len(key) == 24
    assert [m.source_id for m in wah.messages[:3]] == [key, f"{key}/a1", f"{key}/a2"]
    assert all(c.source == "gemini" and c.title is None for c in convs)
    assert france.source_id == france.messages[0].source_id  # a time group: its first entry


# --- the synthetic HTML fixture -------------------------------------------------------


def test_html_fixture() -> None:
    convs, skipped = parse(HTML)
    assert [(s.where.rsplit(": ", 1)[1], s.reason) for s in skipped] == [
        ("entry 2 (2026-08-08T16:44:00Z)", "not a prompt: Selected preferred draft"),
        ("entry 4 (2026-08-08T16:30:00Z)", "not Gemini Apps activity (Search)"),
        ("entry 7 (2026-07-30T12:00:00Z)", "not a prompt: Created Gemini Canvas titled Trip plan"),
    ]
    france, spain, finnish, czech, wah, json_conv = convs
    assert [(c.extra or {}).get("grouping") for c in convs] == [
        "time", "time", "single", "time", "url", "url"]
    # Entities decoded; CEST is UTC+2; 39 minutes apart is more than the 30-minute rule.
    assert texts(france) == [("user", "What's the capital of France?"),
                             ("assistant", "The capital of France is **Paris**.")]
    assert times(france) == ["2024-06-15T14:30:45Z"] * 2
    assert texts(spain) == [("user", "And of Spain?"), ("assistant", "Madrid.")]
    # An unknown locale: the prefix is kept as is, the time cannot be read, nothing fails.
    assert texts(finnish) == [("user", "Kehote Mikä on Suomen pääkaupunki?"),
                              ("assistant", "Helsinki.")]
    assert times(finnish) == [None, None]
    assert finnish.messages[0].extra == {"time_text": "15. joulukuuta 2025 klo 9.15.00 UTC+2"}
    # Czech: localized header, "Pokyn" prefix, "1. 1. 2026 10:00:00 SEČ" (CET); two
    # entries 12.5 minutes apart without a URL are one conversation.
    assert texts(czech) == [
        ("user", "Kolik je hodin v Tokiu, když je v Praze poledne?"),
        ("assistant", "V Tokiu je 20:00."),
        ("user", "Jak dlouho se vaří vejce natvrdo?"),
        ("assistant", "Asi **10 minut**."),
    ]
    assert times(czech) == ["2026-01-01T09:00:00Z"] * 2 + ["2026-01-01T09:12:30Z"] * 2
    # The conversation URL as a link under the prompt; an image-only prompt.
    assert wah.source_id == "0f1e2d3c4b5a6978"
    assert texts(wah) == [
        ("user", "what is auto-wah used for?"),
        ("assistant", "An **auto-wah** is an envelope filter. See "
                      "[Auto-wah](https://en.wikipedia.org/wiki/Auto-wah).\n\n[image]"),
        ("user", "[attached: image_89b1bd.png]"),
        ("assistant", "That is a Mu-Tron III pedal."),
    ]
    assert wah.messages[2].extra == {"attachments": ["image_89b1bd.png"]}
    # The conversation URL in the caption's Details; U+202F before PM; a newline in a prompt.
    assert json_conv.source_id == "a1b2c3d4e5f60718"
    assert json_conv.extra == {"grouping": "url",
                               "url": "https://gemini.google.com/app/a1b2c3d4e5f60718"}
    assert times(json_conv) == ["2026-08-08T16:39:27Z"] * 2 + ["2026-08-08T16:45:10Z"] * 2
    assert texts(json_conv) == [
        ("user", "How do I save a Python dict as JSON & keep “café” readable?"),
        ("assistant", "Use **json.dump** with `ensure_ascii=False`.\n\n"
                      "- Open the file with `encoding=\"utf-8\"`\n"
                      "- Pass `indent=2` to make it readable"),
        ("user", "And how do I read it back?\nShow code."),
        ("assistant", "Use `json.load`:\n\n```python\nimport json\n"
                      "with open(\"data.json\", encoding=\"utf-8\") as f:\n"
                      "    data = json.load(f)\n```\n\n"
                      "| Function | Reads from |\n| --- | --- |\n"
                      "| `json.load` | a file |\n| `json.loads` | a string |"),
    ]
    for c in convs:  # nothing from the caption, the header or the page's CSS leaks in
        for m in c.messages:
            assert "Why is this here" not in m.text and "mdl-" not in m.text
            assert "Products" not in m.text and "gemini.google.com/app" not in m.text


def test_html_and_json_of_the_same_history_give_the_same_ids() -> None:
    json_convs, _ = parse(SHARED_JSON)
    html_convs, _ = parse(HTML)
    json_france, html_france = json_convs[0], html_convs[0]
    assert json_france.source_id == html_france.source_id
    assert [m.source_id for m in json_france.messages] == [
        m.source_id for m in html_france.messages]
    # the image-only prompt at 20:20:00Z is the same message in both
    json_ids = {m.source_id for c in json_convs for m in c.messages}
    assert html_convs[4].messages[2].source_id in json_ids


# --- grouping, ids and wording --------------------------------------------------------


def test_time_gap_rule_and_duplicate_entries() -> None:
    day = "2025-03-01T"
    convs, skipped = parse_json([  # newest first, as Takeout writes it
        entry("Prompted later", day + "11:00:01.000Z", "<p>c</p>"),
        entry("Prompted with a url", day + "10:45:00.000Z", "<p>u</p>", url="abc123"),
        entry("Prompted again", day + "10:30:00.500Z", "<p>b</p>"),
        entry("Prompted hello", day + "10:00:00.250Z", "<p>a2</p>"),
        entry("Prompted hello", day + "10:00:00.250Z", "<p>a1</p>"),
    ])
    assert skipped == []
    first, url, later = convs
    # 10:00 and 10:30:00 are exactly 30 minutes apart: one conversation; the URL entry in
    # between is a conversation of its own and does not break the chain; 11:00:01 is
    # 30 minutes and 1 second after 10:30:00: a new conversation.
    assert [m.text for m in first.messages] == ["hello", "a1", "hello", "a2", "again", "b"]
    assert url.source_id == "abc123" and [m.text for m in url.messages] == ["with a url", "u"]
    assert [m.text for m in later.messages] == ["later", "c"]
    key = first.messages[0].source_id
    assert [m.source_id for m in first.messages[:4]] == [key, f"{key}/a1", f"{key}~2",
                                                         f"{key}~2/a1"]
    assert first.source_id == key and later.source_id == later.messages[0].source_id


def test_ids_are_stable_when_a_newer_export_adds_entries() -> None:
    old = [entry("Prompted one", "2025-03-01T10:00:00.000Z", "<p>1</p>"),
           entry("Prompted zero", "2025-02-01T10:00:00.000Z", "<p>0</p>")]
    new = [entry("Prompted two", "2025-03-01T10:20:00.000Z", "<p>2</p>"), *old]
    (z1, o1), _ = parse_json(old)
    (z2, o2), _ = parse_json(new)
    assert (z1.source_id, o1.source_id) == (z2.source_id, o2.source_id)
    assert [m.source_id for m in o2.messages[:2]] == [m.source_id for m in o1.messages]
    assert [m.text for m in o2.messages] == ["one", "1", "two", "2"]
    # The id does not depend on the milliseconds or on spacing in the prompt.
    (again,), _ = parse_json([entry("Prompted  zero\n", "2025-02-01T10:00:00.999Z", "<p>0</p>")])
    assert again.messages[0].source_id == z1.messages[0].source_id


def test_wording_localized_headers_and_other_products() -> None:
    convs, skipped = parse_json([
        entry("Prompted ", "2025-01-01T12:00:00Z"),  # nothing at all
        entry("Eingabe: Wie spät ist es?", "2025-01-01T11:00:00Z", header="Gemini-Apps"),
        entry("Eingabe: Wie spät ist es?", "2025-01-01T10:00:00Z", "<p>Zehn.</p>",
              header="Gemini-Apps"),
        entry("Answered Which colour?", "2025-01-01T09:00:00Z", "<p>Blue.</p>"),
        entry("Prompted a question nobody answered", "2025-01-01T08:00:00Z"),
        entry("Watched Some video", "2025-01-01T07:00:00Z", header="YouTube"),
        {"unexpected": True},
        "not even an object",
    ])
    assert [s.reason for s in skipped] == [
        "empty prompt and no answer",
        "not a recognised prompt and no answer: Eingabe: Wie spät ist es?",
        "not Gemini Apps activity (YouTube)",
        "not Gemini Apps activity ()",
        "not Gemini Apps activity ()",
    ]
    assert [texts(c) for c in convs] == [
        [("user", "a question nobody answered")],  # a prompt without an answer is kept
        [("user", "Which colour?"), ("assistant", "Blue.")],
        [("user", "Eingabe: Wie spät ist es?"), ("assistant", "Zehn.")],  # kept as is
    ]


# --- localized times and answer HTML ---------------------------------------------------


@pytest.mark.parametrize("text, utc, local", [
    ("Aug 8, 2026, 6:39:27 PM CEST", "2026-08-08T16:39:27Z", "2026-08-08T18:39:27Z"),
    ("Aug 8, 2026, 6:39:27\u202fPM CEST", "2026-08-08T16:39:27Z", "2026-08-08T18:39:27Z"),
    ("Aug 8, 2026, 6:39:27\u00a0PM CEST", "2026-08-08T16:39:27Z", "2026-08-08T18:39:27Z"),
    ("Jan 2, 2026, 12:05:00\u202fAM PST", "2026-01-02T08:05:00Z", "2026-01-02T00:05:00Z"),
    ("Jan 2, 2026, 12:05:00 PM EST", "2026-01-02T17:05:00Z", "2026-01-02T12:05:00Z"),
    ("December 21, 2025, 9:53:03 PM IST", "2025-12-21T16:23:03Z", "2025-12-21T21:53:03Z"),
    ("18 Sept 2025, 12:02:52 CET", "2025-09-18T11:02:52Z", "2025-09-18T12:02:52Z"),
    ("1. 1. 2026 10:00:00 SEČ", "2026-01-01T09:00:00Z", "2026-01-01T10:00:00Z"),
    ("12. 7. 2026 19:01:56 SELČ", "2026-07-12T17:01:56Z", "2026-07-12T19:01:56Z"),
    ("May 19, 2026, 7:07:02\u202fPM GMT-03:00", "2026-05-19T22:07:02Z", "2026-05-19T19:07:02Z"),
    ("19/05/2026, 19:07:02 UTC+5:30", "2026-05-19T13:37:02Z", "2026-05-19T19:07:02Z"),
    ("2026年6月19日 12:23:08 CST", "2026-06-19T04:23:08Z", "2026-06-19T12:23:08Z"),
    ("10 de mai. de 2026, 03:46:09 BRT", "2026-05-10T06:46:09Z", "2026-05-10T03:46:09Z"),
    ("08.08.2026, 18:39:27 MESZ", "2026-08-08T16:39:27Z", "2026-08-08T18:39:27Z"),
    ("Aug 8, 2026, 6:39:27 PM", None, "2026-08-08T18:39:27Z"),  # no zone
    ("Aug 8, 2026, 6:39:27 PM XYZT", None, "2026-08-08T18:39:27Z"),  # unknown zone
    ("15. joulukuuta 2025 klo 9.15.00 UTC+2", None, None),
    ("Feb 30, 2026, 1:00:00 PM UTC", None, None),
    ("13:00:00 PM", None, None),
    ("", None, None),
    ("Prompted what happened at 10:30?", None, None),
])
def test_localized_times(text: str, utc: str | None, local: str | None) -> None:
    got_utc, got_local = parse_local_time(text)
    assert (iso(got_utc), iso(got_local)) == (utc, local)


def test_answer_html_becomes_readable_text() -> None:
    assert html_to_text(
        "<h2>Plan</h2><p>First <em>this</em>, then <b></b>that&nbsp;&amp; more.</p>"
        "<ol><li>One<ul><li>nested <i>item</i></li></ul></li><li><p>Two</p></li></ol>"
        "<blockquote><p>Quoted</p></blockquote><hr>"
        '<p><a href="https://example.com/a">a link</a>, '
        '<a href="http://googleusercontent.com/youtube_content/10">'
        "http://googleusercontent.com/youtube_content/10</a>, "
        '<a href="#local">anchor</a></p>'
        '<img src="image_agent_tag_12" alt=""><img src="x.png" alt="a chart">'
        "<script>alert(1)</script><style>p{}</style>"
        "<pre><code>a  =  1\n\nb = a ** 2</code></pre><p>x<br>y</p>") == (
        "## Plan\n\nFirst *this*, then that & more.\n\n"
        "1. One\n  - nested *item*\n2. Two\n\n"
        "> Quoted\n\n---\n\n"
        "[a link](https://example.com/a), http://googleusercontent.com/youtube_content/10, anchor"
        "\n\n[image][image: a chart]\n\n"
        "```\na  =  1\n\nb = a ** 2\n```\n\nx\ny")
    assert html_to_text("") == ""
    assert html_to_text("5 < 6 <unclosed") == "5 < 6 <unclosed"  # kept as text, no error


# --- detection --------------------------------------------------------------------------


def html_page(*entries: tuple[str, str], css: int = 0) -> bytes:
    cells = "".join(
        '<div class="outer-cell mdl-cell mdl-cell--12-col mdl-shadow--2dp"><div class="mdl-grid">'
        f'<div class="header-cell mdl-cell mdl-cell--12-col"><p class="mdl-typography--title">'
        f"{header}<br></p></div>"
        f'<div class="content-cell mdl-cell mdl-cell--6-col mdl-typography--body-1">{body}</div>'
        '<div class="content-cell mdl-cell mdl-cell--12-col mdl-typography--caption">'
        "<b>Products:</b><br>&emsp;x</div></div></div>" for header, body in entries)
    style = "<style>" + ".mdl-grid{display:flex}\n" * (css // 24 + 1) + "</style>"
    return (f"<html><head>{style}</head><body><div class=\"mdl-grid\">{cells}</div>"
            "</body></html>").encode()


def test_sniff_accepts_both_variants_and_localized_headers() -> None:
    assert gemini_takeout.sniff(input_from_path(HTML))
    assert gemini_takeout.sniff(input_from_path(SHARED_JSON))
    assert detect(input_from_path(HTML)) is gemini_takeout
    assert detect(input_from_path(SHARED_JSON)) is gemini_takeout
    prompt = ("Prompted&nbsp;hi<br>Aug 8, 2026, 6:39:27 PM CEST<br><p>hello</p>")
    # ~150 KB of CSS before the first entry, as in a real page
    big = html_page(("Gemini Apps", prompt), css=150_000)
    assert len(big) > 150_000 and gemini_takeout.sniff(input_from_bytes("a.html", big))
    assert gemini_takeout.sniff(input_from_bytes("a.html", html_page(("Apps con Gemini", prompt))))
    localized = [entry("Pokyn x", "2025-01-01T10:00:00Z", header="Aplikace Gemini")]
    assert gemini_takeout.sniff(input_from_bytes("a.json", json.dumps(localized).encode()))
    with_answer = [entry("Pokyn x", "2025-01-01T10:00:00Z", "<p>y</p>", header="?")]
    assert gemini_takeout.sniff(input_from_bytes("a.json", json.dumps(with_answer).encode()))


def test_sniff_rejects_other_formats_and_other_products() -> None:
    mine = {HERE, SHARED_FIXTURES / "gemini_takeout"}
    others = [p for base in (SHARED_FIXTURES, FIXTURES) for p in base.rglob("*")
              if p.is_file() and p.parent not in mine]
    assert len(others) > 20
    for path in others:
        assert not gemini_takeout.sniff(input_from_path(path)), path
    youtube = [{"header": "YouTube", "title": "Watched a video", "time": "2025-01-01T10:00:00Z",
                "products": ["YouTube"], "titleUrl": "https://www.youtube.com/watch?v=x"}]
    for data in (json.dumps(youtube).encode(), b"[]", b"", b"\x00\x01binary",
                 html_page(("YouTube", "Watched&nbsp;x<br>Aug 8, 2026, 6:39:27 PM CEST<br>")),
                 b"<html><body><p>Gemini Apps</p></body></html>",
                 b"# Gemini Apps\n\nUser: hi\nAssistant: hello\n"):
        assert not gemini_takeout.sniff(input_from_bytes("x", data)), data[:40]


@pytest.mark.parametrize("data, why", [
    (b"", "empty file"),
    (b"{\"header\": \"Gemini Apps\"}", "not a Google Takeout Gemini Apps activity file"),
    (b"[]", "no activity entries in it"),
    (b"<html><body><p>hello</p></body></html>", "no div.outer-cell entries"),
    (b"[{\"header\": \"Gemini Apps\", \"title\": \"Prompted x\", \"time\": \"2025-",
     "truncated or malformed JSON"),
])
def test_unreadable_inputs_fail_with_a_reason(data: bytes, why: str) -> None:
    with pytest.raises(Exception) as e:
        list(gemini_takeout.parse(input_from_bytes("bad.x", data)))
    assert type(e.value).__name__ == "ImportFailed"
    assert str(e.value).startswith("bad.x: ") and why in str(e.value)


def test_truncated_html_fails_wherever_it_is_cut() -> None:
    data = HTML.read_bytes()
    mid_entry = data[:len(data) // 2]
    between = data[:data.rindex(b'<div class="outer-cell')]
    for cut, why in [(mid_entry, "is not closed"), (between, "no closing </body> or </html>")]:
        with pytest.raises(Exception) as e:
            list(gemini_takeout.parse(input_from_bytes("cut.html", cut)))
        assert "truncated HTML" in str(e.value) and why in str(e.value)


# --- through the import service and the CLI --------------------------------------------


def import_json(db: Path, *args: str) -> dict:  # type: ignore[type-arg]
    proc = run_aimem("--db", str(db), "import", *args, "--json", check=True)
    return json.loads(proc.stdout)


@pytest.mark.parametrize("path, conversations", [(HTML, 6), (SHARED_JSON, 4)])
def test_cli_detects(db: Path, path: Path, conversations: int) -> None:
    first = import_json(db, str(path))
    assert [f["format"] for f in first["files"]] == ["gemini_takeout"]
    assert first["conversations_added"] == conversations
    assert len(first["skipped"]) == (3 if path == HTML else 4)
    listed = json.loads(run_aimem("--db", str(db), "list", "--json", check=True).stdout)
    assert {c["source"] for c in listed} == {"gemini"}


def test_newer_html_export_adds_one_turn_to_a_time_grouped_conversation(
        db: Path, tmp_path: Path) -> None:
    data = HTML.read_text(encoding="utf-8")
    marker = '<div class="outer-cell mdl-cell mdl-cell--12-col mdl-shadow--2dp">'
    old = tmp_path / "old" / "MyActivity.html"
    old.parent.mkdir()
    old.write_text(data, encoding="utf-8")
    import_json(db, str(old))
    # A later Takeout holds one more prompt, 10 minutes after the newer Czech entry
    # (no URL): it joins that time-grouped conversation, which keeps its id.
    czech = data.rindex(marker, 0, data.index("Pokyn"))
    new_entry = data[czech:data.index(marker, czech + 1)].replace(
        "Jak dlouho se vaří vejce natvrdo?", "A naměkko?").replace(
        "10:12:30", "10:22:30").replace("Asi <b>10 minut</b>.", "Asi 4 minuty.")
    assert "A naměkko?" in new_entry and "10:22:30" in new_entry
    new = tmp_path / "new" / "MyActivity.html"
    new.parent.mkdir()
    new.write_text(data[:czech] + new_entry + data[czech:], encoding="utf-8")
    report = import_json(db, str(new))
    assert report["conversations_added"] == 0 and report["conversations_updated"] == 1
    assert report["conversations_unchanged"] == 5 and report["messages_added"] == 2
    # the older export, imported again, does not roll the conversation back
    report = import_json(db, str(old))
    assert report["conversations_unchanged"] == 6 and report["conversations_updated"] == 0
    hits = json.loads(run_aimem("--db", str(db), "search", "naměkko", "--role", "user",
                                "--json").stdout)
    assert [(h["source"], h["text"]) for h in hits] == [("gemini", "A naměkko?")]


def test_newer_json_export_adds_exactly_one_message(db: Path, tmp_path: Path) -> None:
    entries = json.loads(SHARED_JSON.read_text())
    old = tmp_path / "old.json"
    old.write_text(json.dumps(entries))
    import_json(db, str(old))
    # One more prompt in the URL conversation, whose answer is missing from the export.
    newer = [entry("Prompted and in funk?", "2026-08-02T20:27:00.000Z",
                   url="995a37b426489105"), *entries]
    new = tmp_path / "new.json"
    new.write_text(json.dumps(newer))
    report = import_json(db, str(new))
    assert report["conversations_added"] == 0 and report["conversations_updated"] == 1
    assert report["conversations_unchanged"] == 3 and report["messages_added"] == 1
    # and one more with an answer: a turn is two messages
    newest = [entry("Prompted and in jazz?", "2026-08-02T20:29:00.000Z", "<p>Yes.</p>",
                    url="995a37b426489105"), *newer]
    new.write_text(json.dumps(newest))
    report = import_json(db, str(new))
    assert report["conversations_updated"] == 1 and report["messages_added"] == 2


def test_json_then_html_of_the_same_history_does_not_duplicate(db: Path) -> None:
    import_json(db, str(SHARED_JSON))
    report = import_json(db, str(HTML))
    assert report["conversations_unchanged"] == 1  # the France conversation
    assert report["conversations_added"] == 5
    hits = json.loads(run_aimem("--db", str(db), "search", "capital France", "--json",
                                "--role", "user").stdout)
    assert len(hits) == 1


def test_takeout_zip_imports_only_gemini_apps(db: Path, tmp_path: Path) -> None:
    archive = tmp_path / "takeout-20260809T120000Z-001.zip"
    youtube = [{"header": "YouTube", "title": "Watched a video", "time": "2026-01-01T10:00:00Z",
                "products": ["YouTube"]}]
    with zipfile.ZipFile(archive, "w") as z:
        z.write(HTML, "Takeout/My Activity/Gemini Apps/MyActivity.html")
        z.writestr("Takeout/My Activity/Gemini Apps/image_89b1bd-1e9873211d1a6157.png",
                   b"\x89PNG")
        z.writestr("Takeout/My Activity/YouTube/MyActivity.json", json.dumps(youtube))
    report = import_json(db, str(archive))
    assert report["conversations_added"] == 6
    assert [Path(f["path"].split(":")[-1]).parent.name for f in report["files"]] == [
        "Gemini Apps"]
    reasons = {s["where"].split(":")[-1]: s["reason"] for s in report["skipped"]}
    assert reasons["Takeout/My Activity/YouTube/MyActivity.json"] == "not a recognised export"


def test_stdin_and_forced_format(db: Path) -> None:
    report = json.loads(run_aimem("--db", str(db), "import", "-", "--json",
                                  input=SHARED_JSON.read_bytes(), check=True).stdout)
    assert report["conversations_added"] == 4
    proc = run_aimem("--db", str(db), "import", "--format", "gemini_takeout",
                     str(FIXTURES / "chatgpt" / "wrapped.json"))
    assert proc.returncode == 1
    assert "not a Google Takeout Gemini Apps activity file" in proc.stderr.decode()


def test_times_are_whole_utc_seconds() -> None:
    convs, _ = parse(SHARED_JSON)
    raw = {e["title"][len("Prompted "):]: e["time"] for e in json.loads(SHARED_JSON.read_text())}
    for c in convs:
        for m in c.messages:
            if m.role == "user" and m.text in raw:
                assert m.created_at == int(to_epoch(raw[m.text]))  # type: ignore[arg-type]
