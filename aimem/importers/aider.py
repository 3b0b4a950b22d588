"""Aider's chat history: the ``.aider.chat.history.md`` file Aider appends to in each project.

Aider (``aider/io.py``) writes one Markdown file per project folder and only ever
appends to it:

- ``# aider chat started at 2025-10-20 21:49:17`` opens a session (local time);
- ``#### text`` lines are what the user typed: a prompt of several lines is several
  consecutive ``####`` lines (each but the last ending in Markdown's two-space break),
  and answers to Aider's own questions are recorded the same way;
- ``> text`` lines are Aider's tool and status output (the start-up banner, ``Added
  x to the chat``, ``Tokens: 1.8k sent, 653 received.``, errors, ``^C``);
- any other text is the model's reply.

Each session becomes one conversation: ``user`` messages for prompts, ``assistant``
for replies and ``tool`` messages (author ``aider``) for the ``>`` blocks that follow
a prompt; the banner before the first prompt goes to ``extra["preamble"]`` and gives
the model and Aider's version. A session in which nothing was typed is reported as
skipped. Inside a reply, a fenced code block is kept whole even when its lines start
with ``>`` or ``####``.

Ids are stable while the file grows: a session is identified by its start line and
the folder holding the file (the project), messages by their position, so importing
the grown file again adds only the new messages.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from datetime import datetime

from aimem.importers.base import Input, Item, sniffer
from aimem.models import Conversation, Message, Skipped

NAME = "aider"
SOURCE = "aider"
DESCRIPTION = "Aider's .aider.chat.history.md (one per project folder)"

SESSION = re.compile(r"^# aider chat started at (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)[ \t]*$")
USER = re.compile(r"^####(?: (.*))?$")
TOOL = re.compile(r"^>(?: (.*))?$")
FENCE = re.compile(r"^[ \t]{0,3}(```|~~~)")
MODEL = re.compile(r"^(?:Main model|Model): (\S+)")
VERSION = re.compile(r"^Aider (v\d[\w.\-+]*)")


@sniffer
def sniff(inp: Input) -> bool:
    text = inp.text_head(8192)
    for line in text.lstrip("\ufeff").splitlines()[:5]:
        if not line.strip():
            continue
        return bool(SESSION.match(line.rstrip("\r")))
    return False


def parse(inp: Input) -> Iterator[Item]:
    with inp.open() as f:
        data = f.read()
    if b"\x00" in data:
        raise inp.fail("binary data (NUL bytes), not an Aider chat history")
    try:
        # a character cut at the very end (the tool may still be writing) is left out
        text = codecs.getincrementaldecoder("utf-8")().decode(data, final=False)
    except UnicodeDecodeError as e:
        raise inp.fail(f"not valid UTF-8 text (byte {e.start})") from None
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    starts = [i for i, line in enumerate(lines) if SESSION.match(line)]
    if not starts:
        raise inp.fail("no '# aider chat started at' line: not an Aider chat history")
    project = str(inp.path.resolve().parent) if inp.path is not None else None
    seen: dict[str, int] = {}
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        when = SESSION.match(lines[start]).group(1)  # type: ignore[union-attr]
        seen[when] = seen.get(when, 0) + 1
        sid = f"{project or ''}|{when}" + (f"|{seen[when]}" if seen[when] > 1 else "")
        conv = _session(lines[start + 1:end], when, sid, project)
        if conv is None:
            yield Skipped(f"{inp.name}: session started at {when}",
                          "nothing was typed in this session")
        else:
            yield conv


def _session(lines: list[str], when: str, sid: str, project: str | None
             ) -> Conversation | None:
    blocks: list[tuple[str, list[str]]] = []  # (role, lines) in file order
    fence: str | None = None
    closed = False  # a blank line ends a prompt: the next #### line is a new one
    for line in lines:
        if fence is not None:  # inside a code block of a reply
            blocks[-1][1].append(line)
            f = FENCE.match(line)
            if f and f.group(1) == fence:
                fence = None
            continue
        u = USER.match(line)
        t = TOOL.match(line) if u is None else None
        role = "user" if u else "tool" if t else "assistant"
        content = (_unbreak(u.group(1) or "") if u else (t.group(1) or "").rstrip() if t
                   else line)
        if role == "assistant" and not line.strip() and (not blocks or blocks[-1][0] != role):
            closed = True  # the blank lines around prompts and tool output
            continue
        if blocks and blocks[-1][0] == role and not (closed and role == "user"):
            blocks[-1][1].append(content)
        else:
            blocks.append((role, [content]))
        closed = False
        if role == "assistant":
            f = FENCE.match(line)
            if f:
                fence = f.group(1)
    if not any(role == "user" for role, _ in blocks):
        return None
    preamble: list[str] = []
    while blocks and blocks[0][0] != "user":
        preamble += blocks.pop(0)[1]
    messages: list[Message] = []
    for role, body in blocks:
        text = "\n".join(body).strip("\n")
        if role != "user":
            text = text.strip()
        if not text.strip():
            continue
        messages.append(Message(role=role, text=text, source_id=str(len(messages)),
                                author="aider" if role == "tool" else None))
    meta = "\n".join(line for line in preamble if line.strip()).strip()
    model = version = None
    for line in meta.splitlines():
        model = model or (m.group(1) if (m := MODEL.match(line)) else None)
        version = version or (m.group(1) if (m := VERSION.match(line)) else None)
    extra = {k: v for k, v in (("preamble", meta), ("aider_version", version)) if v}
    return Conversation(source=SOURCE, source_id=sid, messages=messages, model=model,
                        project=project, created_at=_local(when), extra=extra or None)


def _unbreak(text: str) -> str:
    """A line without the two spaces Aider adds as a Markdown line break."""
    return text[:-2] if text.endswith("  ") else text


def _local(when: str) -> float | None:
    """Aider writes the start in the machine's local time, without a zone (None when the
    line holds no real date: a damaged file, month 13)."""
    try:
        return datetime.strptime(when, "%Y-%m-%d %H:%M:%S").astimezone().timestamp()
    except (ValueError, OverflowError, OSError):
        return None
