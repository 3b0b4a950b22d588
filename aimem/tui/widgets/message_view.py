"""One message of an open conversation: who and when, then the text as Markdown.

A single widget per message (its Markdown drawn as lines, see ``markdown_text``), so a
conversation of hundreds of messages opens and scrolls quickly.
"""

from __future__ import annotations

from typing import Any

from textual.content import Content
from textual.geometry import Size
from textual.widget import Widget

from aimem.tui.formatting import when
from aimem.tui.widgets.markdown_text import Block, layout, parse


class MessageView(Widget):
    DEFAULT_CSS = """
    MessageView {
        height: auto;
        text-wrap: nowrap;
    }
    """

    def __init__(self, message: dict[str, Any], *, index: int, match: bool = False,
                 branch_note: str | None = None) -> None:
        role = message.get("role") or "user"
        super().__init__(classes=f"message -{role}" + (" -match" if match else "")
                         + (" -branch" if branch_note is not None else ""))
        self.message = message
        self.index = index
        self.match = match
        self.branch_note = branch_note  # an off-branch message: where it forks
        self._blocks: list[Block] | None = None
        self._body: tuple[int, list[Content]] | None = None  # the text's lines, per width
        self._lines: tuple[int, Content] | None = None  # head and body

    def mark(self, match: bool) -> None:
        """Mark it as matching the query (or not); its head line says so."""
        if match != self.match:
            self.match = match
            self.set_class(match, "-match")
            self._lines = None
            self.refresh()

    def head(self) -> Content:
        m = self.message
        who = m.get("role") or "user"
        if m.get("author"):
            who += f" ({m['author']})"
        parts: list[str | tuple[str, str]] = [(who, "bold")]
        if self.branch_note is not None:
            parts.insert(0, ("↳ ", "bold $text-secondary"))
            parts.append((f"  other branch, {self.branch_note}", "italic $text-secondary"))
        if m.get("created_at"):
            parts.append((f"  {when(m['created_at'])}", "$text-muted"))
        if self.match:
            parts.append(("  ● match", "bold $text-warning"))
        return Content.assemble(*parts)

    def _rendered(self, width: int) -> Content:
        if self._lines is None or self._lines[0] != width:
            if self._body is None or self._body[0] != width:
                if self._blocks is None:
                    self._blocks = parse(self.message.get("text") or "")
                self._body = (width, layout(self._blocks, width))
            # marking a match changes the head only: the body's lines are kept
            self._lines = (width, Content("\n").join([self.head(), *self._body[1]]))
        return self._lines[1]

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return self._rendered(width).plain.count("\n") + 1

    def render(self) -> Content:
        return self._rendered(self.content_size.width)
