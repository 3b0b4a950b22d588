"""The search box: an Input where ``?`` opens the key list while nothing is typed."""

from __future__ import annotations

from textual import events
from textual.widgets import Input


class SearchBox(Input):
    async def _on_key(self, event: events.Key) -> None:
        if event.character == "?" and not self.value:
            event.stop()
            event.prevent_default()
            await self.run_action("app.help")
            return
        await super()._on_key(event)
