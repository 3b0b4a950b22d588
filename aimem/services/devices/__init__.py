"""Sync between devices: one memory on every machine, never by copying the live database.

Design
======

Where. A *sync location* is a folder the user already keeps in step between machines
(Syncthing, Dropbox, iCloud Drive, OneDrive, an rclone mount, a network share) or a git
remote (``git+URL``: aimem keeps a clone next to its database and uses the system
``git``). Inside it, ``aimem-sync/<device id>/`` belongs to one device only::

    aimem-sync/
      3f9c0a1b2c3d4e5f/            one directory per device, written only by that device
        device.json                 {"id", "name", "created"}: written once, never changed
        log-000001.jsonl            change records, one JSON object a line, append-only
        log-000002.jsonl            a new file after 8 MB (or when the last one ended
                                    without a newline: a crash mid-append)
        snapshot-000002-81920.jsonl ``aimem sync compact``: the whole merged state as
                                    records (original clocks), covering logs <= 2; the
                                    name ends with its size (read only once all there)
        seen.json                   how far this device read the others' logs (replaced
                                    whole, atomically; only this device writes it)
      encryption.json               with --encrypt: scrypt salt and a check value

No file ever has two writers and log files are never rewritten, so a file-sync tool
cannot make a conflict copy and git can always rebase (no two devices touch the same
path). The live ``.db`` file is never in the sync location.

Records. Each line is ``{"op", "k" (conversation|memory), "id", "g" (generation),
"c" (hybrid logical clock), "d" (device id), ...payload}``:

- ``conversation``: the conversation as an aimem JSONL object (the exchange format stays
  one), without ``tags`` and ``summary``, which are their own field groups;
- ``summary``: ``text`` (null: none) and ``model``;
- ``memory``: text, kind, source, project, created_at, updated_at, extra, conversation;
- ``pin``: ``pinned``;
- ``tag``: ``tag`` and ``on`` (true: added, false: removed), on a conversation or memory;
- ``forget``: a tombstone, with the item's ``source``, ``source_id`` and ``content_hash``
  (for a memory its text hash), so that nobody needs the forgotten content to recognise it.

Clock. A hybrid logical clock: ``(milliseconds << 16) | counter``; a device ticks it for
each record it writes and moves it past every clock it reads, so a change made after
seeing another device's change always orders after it, whatever the wall clocks say.

Merge rule. Each item has field groups: a conversation ``body``, ``summary`` and one
``tag:<name>`` per tag; a memory ``body``, ``pin`` and ``tag:<name>``. Per group the record
with the greatest ``(generation, clock, device id)`` wins (last writer wins, ties broken by
the device id), so every device converges to the same state whatever order logs arrive in
and however often. Tags are an add/remove set with one winner per tag: two devices adding
different tags concurrently both keep theirs.

Delete vs update (what was chosen). Forget is forever: a tombstone beats every record of
its generation and older ones, whatever their clocks, including edits made on a device
that had not yet heard of the forget. A conversation has generation 0 (its id comes from
its source id), so a forgotten conversation never comes back, not from another device's
log and not from re-importing the original export (``import`` skips tombstoned items, and
``sync`` removes one that came back by any other path). A memory's generation is its
creation time in ms: saving the same text again *after* forgetting it (``aimem
remember``) makes a new generation, which the old tombstone does not cover, while the
original export (same creation time) stays forgotten. This is the issue's "an update
newer than a delete brings the item back only for memories the user edited after the
delete", made precise: only a new ``remember`` revives, an edit of the old copy does not.
A forget is a privacy act; silently undoing it because a stale laptop synced late is the
worse failure.

What to send: diff, not an outbox. Instead of hooking every writer (remember, update,
forget, tags, summaries, titles, imports, the memory tool, MCP, llm tasks), a sync
compares the database with ``sync_state`` (the winning record per item and group that
this device last wrote or applied, as a digest). Whatever differs is sent; an item in the
state that is gone from the database was forgotten here and gets a tombstone. This is
simpler and correct by construction: no write path can forget to log, and a crash between
a change and the sync loses nothing. The cost is a scan of ids and hashes per sync (no
message text is read unless a conversation changed), and clocks are taken when the change
is sent, not when it was made, so of two offline edits of the same field the one synced
last wins.

Applying. Logs are read incrementally: ``sync_positions`` keeps, per device and file, the
byte offset read up to. A file's new bytes are read up to the last newline; a last line
without one (a sync tool still copying) is left for the next run. Every line of the new
part is decoded first: a garbled one gets the file reported and skipped (position not
moved), never half-applied. The records of one file are applied in one transaction, with
the position. Applying is idempotent (a record that does not beat the state changes
nothing), so duplicated or reordered delivery is harmless. Local changes are sent before
others' records are applied, so the diff never mistakes an applied record for a local
change.

Compaction. ``aimem sync compact`` writes a snapshot and deletes this device's own log
files that every device present in the location has read (by their ``seen.json``). A
device with no read position for a device starts from that device's latest snapshot and
reads only the logs after it; a device that already reads the logs ignores snapshots.

Known limits: two different copies of one conversation imported on two devices before
they synced (a session file that grew in between) are one field group: the copy sent
last wins whole, where a local re-import would have kept the union of messages
(re-importing the longer copy anywhere restores it). A forget made before a sync location
was set leaves no tombstone. Two devices that ``remember`` the same text independently make two
generations of one memory id; the later creation wins whole (tags of the other are
dropped). An automatic tag arrives as a plain tag. Use counters stay per device.
"""

from __future__ import annotations

from aimem.services.devices.base import LOG_DIR, ROLL_BYTES, Clock, DeviceReport, identity
from aimem.services.devices.crypt import SEALED
from aimem.services.devices.run import devices, exchange, set_target, target
from aimem.services.devices.snapshot import compact

__all__ = ["LOG_DIR", "ROLL_BYTES", "SEALED", "Clock", "DeviceReport", "compact", "devices",
           "exchange", "identity", "set_target", "target"]
