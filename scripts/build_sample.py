#!/usr/bin/env python3
"""Build aimem's bundled sample data (used by ``make demo`` and ``aimem demo``).

The sample is one invented person's AI chat history from January 2025 to
February 2026: a backend developer (Django, PostgreSQL, a Python-to-Rust port,
Kubernetes) who bakes sourdough, runs, gardens and plans trips to Kyoto and
Lisbon. Every text below is hand-written for aimem; there is no personal data
in it (no real people, no e-mail addresses, no phone numbers).

It writes, under ``aimem/data/sample/``:

* ``chatgpt/conversations.json``: a ChatGPT data export (docs/formats.md §1),
  including a regenerated answer and an edited user message;
* ``others.jsonl``: Claude and Gemini conversations plus a few memories in
  aimem's own JSONL exchange format (docs/interface.md, "aimem JSONL");
* ``README.md``: what the sample is, how to rebuild it, its licence.

Standard library only, and deterministic: ids and timestamps are derived from
SHA-256 hashes of fixed keys, so running it twice gives byte-identical files.

Usage: python3 scripts/build_sample.py [--out DIR]   (default: aimem/data/sample/)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "aimem" / "data" / "sample"
UTC = dt.UTC

# --------------------------------------------------------------------------
# deterministic helpers


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()


def uid(*parts: str) -> str:
    """A uuid4-shaped id derived from *parts*."""
    return str(uuid.UUID(bytes=_digest(*parts)[:16], version=4))


def unit(*parts: str) -> float:
    """A number in [0, 1) derived from *parts*."""
    return int.from_bytes(_digest(*parts)[:8], "big") / 2**64


def chatgpt_conversation_id(key: str, created: float) -> str:
    """Shaped like current ChatGPT ids: the first group is the creation time in hex."""
    h = _digest("chatgpt-conversation", key).hex()
    variant = "89ab"[int(h[7], 16) % 4]
    return f"{int(created):08x}-{h[0:4]}-8{h[4:7]}-{variant}{h[8:11]}-{h[11:23]}"


def epoch(stamp: str) -> float:
    """'2025-01-08 01:12' (UTC) -> epoch seconds."""
    return dt.datetime.strptime(stamp, "%Y-%m-%d %H:%M").replace(tzinfo=UTC).timestamp()


def iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# A conversation body is a small text format: a line "@@ user" or
# "@@ assistant" starts a turn. "@@ user-old" is a user message that was later
# edited (it and the "@@ assistant-old" answer under it stay on a dead branch);
# "@@ assistant-old" right after a user turn is an answer that was regenerated.
MARKER = re.compile(r"^@@ (user|assistant|user-old|assistant-old)[ \t]*$", re.M)


def parse(body: str, where: str) -> list[tuple[str, str]]:
    pieces = MARKER.split(body)
    if pieces[0].strip():
        raise SystemExit(f"{where}: text before the first @@ marker")
    turns = []
    for kind, text in zip(pieces[1::2], pieces[2::2], strict=True):
        text = text.strip("\n").rstrip()
        if not text:
            raise SystemExit(f"{where}: empty {kind} turn")
        turns.append((kind, text))
    visible = [k for k, _ in turns if not k.endswith("-old")]
    if not 4 <= len(visible) <= 12:
        raise SystemExit(f"{where}: {len(visible)} visible messages (want 4-12)")
    for kind, text in turns:
        words = len(text.split())
        if kind.startswith("assistant") and not 60 <= words <= 250:
            raise SystemExit(f"{where}: assistant turn of {words} words (want 60-250)")
    return turns


def timeline(key: str, start: str, turns: list[tuple[str, str]]) -> list[float]:
    """Plausible times: answers stream in a few seconds, the person reads and types for minutes."""
    t = epoch(start) + 60 * unit(key, "start-second")
    times = []
    previous = None
    for i, (kind, text) in enumerate(turns):
        words = len(text.split())
        r = unit(key, str(i))
        if previous is None:
            pass
        elif kind.startswith("assistant"):
            t += 2.0 + words * 0.045 + 3.0 * r
            if previous == "assistant-old":  # the person read it, then pressed regenerate
                t += 40 + 90 * r
        else:
            t += 50 + 240 * r + words * 1.5
        times.append(round(t, 6))
        previous = kind
    return times


# --------------------------------------------------------------------------
# ChatGPT conversations, in the order they happened. Each has a title, a start
# time (UTC), the answering model and the body.

CHATGPT: list[dict] = []


def chatgpt(title: str, start: str, model: str, body: str) -> None:
    CHATGPT.append({"title": title, "start": start, "model": model, "body": body})


chatgpt("Sourdough starter not rising", "2025-01-08 01:12", "gpt-4o", r'''
@@ user
I started a sourdough starter six days ago with whole wheat flour and water. It bubbled like crazy on day 2 and now it barely does anything. Did I kill it?
@@ assistant
You almost certainly didn't kill it: this is the most common thing a new starter does.

**What happened:** the day-2 explosion is mostly bacteria such as *Leuconostoc*, which thrive before the mix turns acidic. As acidity rises they die off, and the wild yeast and lactic acid bacteria you actually want take several more days to build up. Days 4–10 are often quiet.

**Keep going like this:**

- **Feed once every 24 hours.** Discard all but 25 g, then add 50 g flour and 50 g water (1:2:2), stir well.
- **Keep it warm:** 24–27 °C (75–80 °F) is ideal. Below about 21 °C everything slows down a lot.
- **Boost it with rye:** replace 20–30% of the flour with whole rye for a few feedings.
- **Water:** if your tap water is heavily chlorinated, use filtered water or let it stand for a few hours.
- **Mark the jar** with a rubber band right after feeding so you can see the rise.

It's ready when it reliably doubles within 4–8 hours of a feeding for two or three days in a row and smells pleasantly tangy, like yogurt or beer. Most starters get there between day 7 and day 14.
@@ user
My kitchen is about 66°F at night. Is that why it's so slow? It also smells a bit like nail polish remover.
@@ assistant
Yes, 66 °F (19 °C) is a big part of it. Fermentation roughly halves in speed for every 8–10 °C drop, so a starter that would peak in 5 hours at 26 °C can take 10 or more at 19 °C.

The **nail polish (acetone) smell** means the culture has eaten through its food and is stressed. It's a good sign in one way: there is enough activity to run out of food. Two fixes:

1. **Feed more food per feeding:** switch to 1:5:5 (10 g starter, 50 g flour, 50 g water) so it takes longer to exhaust.
2. **Or feed twice a day,** roughly 12 hours apart, at 1:2:2.

**Warm spots that work:**

- The oven with only the light on (check with a thermometer first; some get above 35 °C, which is too hot, so crack the door).
- On top of the fridge or near, not on, a radiator.
- A microwave with a mug of just-boiled water next to the jar, refreshed every few hours.
- A seedling heat mat under a folded towel.

Once it is warm and fed properly, the acetone smell usually disappears within two or three feedings.
@@ user
It doubled in 5 hours today after I moved it into the oven with the light on. How do I keep it going long term without feeding it twice a day?
@@ assistant
Congratulations, that's an active starter. For long-term maintenance, keep it in the fridge:

**Weekly routine**

1. Take it out, discard down to about 20 g.
2. Feed 1:5:5: 20 g starter, 100 g flour, 100 g water.
3. Leave it at room temperature for 1–2 hours until you see the first bubbles, then put it back in the fridge.

**Before a bake**

Build a levain the evening before instead of using the starter straight from the fridge. For example at 9 pm mix 20 g starter, 50 g flour and 50 g water; at 24 °C it peaks around 7–9 am, which is when you mix the dough.

**Good to know**

- A fridge starter easily survives two to three weeks without feeding. Grey liquid on top (hooch) just means it's hungry: pour it off for a milder flavor or stir it in for a sourer one.
- Use the discard for crackers, pancakes or waffles instead of throwing it away.
- Keep a spoonful of dried starter as a backup: smear it thin on parchment, let it dry completely and store the flakes in a jar.
''')

chatgpt("Django admin N+1 queries", "2025-01-21 17:34", "gpt-4o", r'''
@@ user
Our Django admin changelist for Shipment takes 6 seconds to load. Debug toolbar shows 412 queries, mostly the same SELECT on carrier and customer. What's the right fix?
@@ assistant
That's a classic N+1: each row in `list_display` touches `obj.customer` and `obj.carrier`, and each access runs its own query. Tell the admin to join those tables up front with `list_select_related`, and replace per-row counts with an annotation:

```python
from django.contrib import admin
from django.db.models import Count

from .models import Shipment


@admin.register(Shipment)
class ShipmentAdmin(admin.ModelAdmin):
    list_display = ("reference", "customer", "carrier", "status", "created_at", "item_count")
    list_select_related = ("customer", "carrier")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_item_count=Count("items"))

    @admin.display(ordering="_item_count", description="Items")
    def item_count(self, obj):
        return obj._item_count
```

Things to check if the count is still high:

- `__str__` on `Customer` or `Carrier` that follows another relation (for example `self.account.name`). Add that path too: `list_select_related = ("customer__account", "carrier")`.
- Methods in `list_display` that call `.count()` or `.exists()`; annotate instead.
- `list_filter` on a foreign key renders every choice; use `admin.RelatedOnlyFieldListFilter` or an autocomplete filter for big tables.
@@ user
That got it down to 9 queries. One column shows the latest tracking event for each shipment, which is a reverse FK. Can I avoid a query per row there too?
@@ assistant
Yes. Two options:

**1. A subquery annotation** (one SQL query, best when shipments have many events):

```python
from django.db.models import OuterRef, Subquery

latest_status = (
    TrackingEvent.objects.filter(shipment=OuterRef("pk"))
    .order_by("-occurred_at")
    .values("status")[:1]
)

def get_queryset(self, request):
    qs = super().get_queryset(request)
    return qs.annotate(_item_count=Count("items"), latest_event=Subquery(latest_status))
```

Then `list_display` can use a method returning `obj.latest_event`. Make sure there is an index on `(shipment_id, occurred_at)` or the subquery gets slow on a big table.

**2. `prefetch_related` with a `Prefetch(..., to_attr=...)`:** one extra query for the whole page. It fetches *all* events of the 100 shipments on the page, which is fine for a handful each but wasteful if a shipment has hundreds.

With the subquery you should stay at the same 9 queries no matter how many rows are on the page.
@@ user
How do I stop this from regressing the next time someone adds a column?
@@ assistant
Add a test that pins the query count of the changelist and fails when it grows with the number of rows:

```python
from django.contrib.auth import get_user_model
from django.test import TestCase
from django.urls import reverse

from shipping.tests.factories import ShipmentFactory


class ShipmentAdminQueryCount(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.admin_user = get_user_model().objects.create_superuser("admin", password="x")
        ShipmentFactory.create_batch(30)

    def test_changelist_queries_do_not_grow_with_rows(self):
        self.client.force_login(self.admin_user)
        with self.assertNumQueries(9):
            self.client.get(reverse("admin:shipping_shipment_changelist"))
```

An exact number breaks on harmless changes (a session or permission query), so some teams use `django_assert_max_num_queries` from pytest-django instead, or render the page with 5 and with 50 rows and assert the counts are equal. That second form catches exactly the N+1 pattern and nothing else.
''')

chatgpt("12-week half marathon plan", "2025-02-04 12:05", "gpt-4o", r'''
@@ user
I want to run a half marathon on May 4 and break 2 hours. I run about 20 km a week now, and my longest run is 10 km in 62 minutes. Can you make a 12-week plan?
@@ assistant
Sub-2:00 needs an average of **5:41/km**. Riegel's formula (T2 = T1 × (D2/D1)^1.06) turns your 62-minute 10 km into **2:17**. That was a training run, so you're faster, but sub-2 in 12 weeks is ambitious: train for it, and treat 2:05–2:10 as a solid result.

Four runs a week (easy, workout, easy, long), plus 4–6 × 20 s strides after one easy run.

| Week | Weekly km | Long run | Workout |
|---|---|---|---|
| 1 | 22 | 11 km | 6 × 400 m, 5:15/km |
| 2 | 25 | 12 km | 20 min, 5:55/km |
| 3 | 27 | 13 km | 5 × 800 m, 5:20/km |
| 4 | 22 | 10 km | easy week |
| 5 | 30 | 14 km | 3 × 2 km, 5:45/km |
| 6 | 32 | 15 km | 25 min, 5:40/km |
| 7 | 34 | 16 km | 6 × 1 km, 5:25/km |
| 8 | 28 | 12 km | 5 km time trial |
| 9 | 36 | 17 km | 2 × 4 km, 5:40/km |
| 10 | 38 | 19 km | 8 km, 5:41/km |
| 11 | 28 | 13 km | 5 × 1 km, 5:35/km |
| 12 | 18 | race | 3 × 1 km, 5:41/km on Tuesday |

Retest with the week-8 time trial: a 5 km under about 26:00 says sub-2 is realistic.
@@ user
What should my easy pace be? I've been running basically everything at about 6:10.
@@ assistant
That's the most common mistake, and fixing it will help more than any workout. Right now every run is "moderately hard": too hard to recover from, too easy to build speed.

**Easy pace for you: roughly 6:50–7:30/km.** Use these checks rather than the watch alone:

- You can speak in full sentences.
- Breathing through your nose is almost possible.
- Heart rate roughly 65–75% of maximum (zone 2 on most watches).

Aim for about **80% of your weekly kilometres easy** and 20% at workout or race pace. The easy running builds the aerobic base (capillaries, mitochondria, tendon strength) that lets you hold 5:41/km later; the workouts teach you to run fast.

It will feel embarrassingly slow for the first two weeks. That is normal, and most people find their easy pace drifts faster on its own after a month or so at the same effort.
@@ user
Week 3, and my left shin hurts on the inside after runs. Should I push through it?
@@ assistant
Don't push through it. Pain along the inner edge of the shin is usually **medial tibial stress syndrome** ("shin splints"), which is common when volume goes up, but it can turn into a stress fracture if you ignore it.

**See a doctor or physiotherapist soon if:**

- the pain is in one spot you can cover with a fingertip and it hurts to press,
- it hurts when walking, at rest or at night,
- hopping on that leg hurts.

**If it is diffuse soreness along the bone that fades as you warm up:**

1. Cut running volume by 30–50% for a week and skip the workout; cycling or swimming keeps the fitness.
2. Run on softer surfaces and avoid steep downhills.
3. Do calf raises daily: 3 × 15, straight and bent knee, and add single-leg ones once easy.
4. Check your shoes: most lose their cushioning after 500–800 km.
5. Try a slightly higher cadence, about 5% more steps per minute, which shortens the stride.

Resume the plan at week 3 volume once you can run pain-free for several days. This isn't medical advice; if it isn't clearly better within one or two weeks, get it checked.
''')

chatgpt("Flaky pytest test in CI", "2025-02-19 15:48", "gpt-4o", r'''
@@ user-old
One of our pytest tests fails randomly in CI. How do I debug a flaky test?
@@ assistant-old
Flaky tests usually come from one of four things: shared state between tests, ordering, timing, or the environment. A systematic approach:

1. **Reproduce:** run it many times alone with `pytest-repeat` (`pytest --count 50 tests/test_x.py::test_name`). If it never fails alone, it depends on other tests.
2. **Order:** install `pytest-randomly`, which prints the seed it used; rerun a failing order with `pytest --randomly-seed=1234` and bisect the tests that ran before it.
3. **Timing:** look for `sleep`, real network calls, threads and timeouts.
4. **Environment:** compare time zone, locale, Python version and environment variables between your machine and CI.

While you investigate, quarantine it with `@pytest.mark.flaky(reruns=3)` from pytest-rerunfailures, but track it so the rerun doesn't become permanent.
@@ user
One of our pytest tests, test_invoice_due_date, fails in CI but never locally. It only fails on the nightly build that runs at 01:00 UTC, and the assertion compares due_date to date.today() + 30 days.
@@ assistant
That is a time zone bug, not randomness. The nightly build runs at 01:00 UTC, which is 20:00 the previous day in New York.

My guess at the mechanism:

- Your code computes the due date from `timezone.now().date()`. With `USE_TZ = True`, `timezone.now()` is an aware UTC datetime, so that gives the **UTC date**.
- The test uses `date.today()`. On Unix, Django sets the process time zone to `TIME_ZONE` (presumably `America/New_York`), so that gives the **local date**.

Between 19:00 and 24:00 New York time (depending on daylight saving) the two dates differ by a day. PR builds and your local runs happen during the day, so they pass.

Fix the code to use the local business date, `timezone.localdate()`, and pin the clock in the test right at the awkward moment:

```python
import datetime as dt

import time_machine

from billing.models import make_invoice


@time_machine.travel(dt.datetime(2025, 2, 20, 1, 30, tzinfo=dt.timezone.utc))  # 20:30 in New York
def test_invoice_due_date_uses_local_date():
    invoice = make_invoice(issued_by="test")
    assert invoice.due_date == dt.date(2025, 3, 21)  # Feb 19 + 30 days
```

An explicit expected date is better than recomputing it in the test with the same clock the code uses.
@@ user
That was it. Is there a way to catch this whole class of bug across the test suite?
@@ assistant
Yes, at two levels.

**Statically:** Ruff's `DTZ` rules (from flake8-datetimez) flag naive date and time calls:

```toml
# pyproject.toml
[tool.ruff.lint]
extend-select = ["DTZ"]
```

`DTZ011` catches `date.today()`, `DTZ005` catches `datetime.now()` without a `tz`, and `DTZ001` catches naive `datetime(...)` constructors. Run `ruff check --select DTZ .` once to see how many you have.

**Dynamically:** add one CI job that runs the suite with the clock frozen near midnight in a far-off zone, so UTC and local dates disagree. A session-scoped autouse fixture in `conftest.py` enabled by an environment variable works well:

```python
import os
import time_machine
import pytest

@pytest.fixture(autouse=True, scope="session")
def late_evening_clock():
    if not os.environ.get("FREEZE_LATE_EVENING"):
        yield
        return
    with time_machine.travel("2025-02-20T03:30:00Z", tick=True):
        yield
```

With `tick=True` time still moves, so timeouts keep working.
@@ user
Ruff flagged 14 places. Should all of them become timezone.localdate()?
@@ assistant
No, decide per call what the value means:

| The code wants... | Use |
|---|---|
| A calendar date the user sees: due dates, "today's" reports, business days | `timezone.localdate()` |
| A moment in time to store or compare | `timezone.now()` |
| A date in UTC on purpose: log partitions, S3 prefixes, metrics buckets | `timezone.now().date()` with a comment saying UTC is intended |
| A date in the customer's own zone | `timezone.localdate(value, zoneinfo.ZoneInfo(customer.tz))` |

For the few cases where naive time really is intended (a CLI script, a test helper), add `# noqa: DTZ005` with a short reason so the next reader doesn't have to guess.

Watch out for the reverse bug as well: `DateField(default=date.today)` on models has the same problem. Change it to `default=timezone.localdate`, which is a callable and does the right thing.
''')

chatgpt("database is locked with Celery and SQLite", "2025-03-06 19:20", "gpt-4o", r'''
@@ user
In local development our Django app uses SQLite, and when a Celery worker and runserver both write I get "sqlite3.OperationalError: database is locked". Is there a setting that fixes this, or should I just switch to Postgres locally?
@@ assistant
"Database is locked" means one connection waited for the write lock longer than its timeout. SQLite allows **one writer at a time**, and in the default rollback-journal mode a writer also blocks readers. Three things usually make it worse: the default 5-second timeout, a Celery task doing slow work inside `transaction.atomic()`, and transactions that start as reads and then try to write.

On Django 5.1 or newer you can fix most of it in settings:

```python
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": BASE_DIR / "db.sqlite3",
        "OPTIONS": {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }
}
```

- **WAL** lets readers and the writer work at the same time.
- **IMMEDIATE** takes the write lock at the start of `atomic()`, so transactions queue up politely instead of failing halfway through.
- **timeout** is how long to wait for the lock.

That said, if production runs PostgreSQL, I'd use Postgres locally too (a `docker compose` service takes five minutes). SQLite hides real differences: `select_for_update()` is a no-op, JSONField lookups and constraint behaviour differ, and you'll never see lock contention the way production does.
@@ user
We're still on Django 4.2, so those OPTIONS don't exist. Any workaround?
@@ assistant
On 4.2, `timeout` already works (it is passed straight to `sqlite3.connect`), and you can set the pragmas yourself when each connection opens, using the `connection_created` signal:

```python
# core/signals.py
from django.db.backends.signals import connection_created
from django.dispatch import receiver


@receiver(connection_created)
def configure_sqlite(sender, connection, **kwargs):
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode=WAL;")
        cursor.execute("PRAGMA synchronous=NORMAL;")
        cursor.execute("PRAGMA busy_timeout=20000;")
```

Import the module in your `AppConfig.ready()` so the receiver is registered in both runserver and the Celery worker.

There's no clean equivalent of `transaction_mode` on 4.2 short of subclassing the backend. Mitigate it instead:

- Keep `atomic()` blocks short and never call external APIs inside them.
- In Celery tasks, do the slow part first and write at the end.
- Run the worker with `--concurrency=1` locally so there's only one writer from that side.
@@ user
WAL helped a lot, but now I see db.sqlite3-wal and db.sqlite3-shm files next to the database. Can I delete them or should I commit them?
@@ assistant
Neither. Never delete them while any process has the database open: the `-wal` file holds committed transactions that haven't been copied into the main file yet, so deleting it loses data. The `-shm` file is a shared-memory index for the WAL and is rebuilt automatically.

Ignore all three in git:

```gitignore
db.sqlite3
db.sqlite3-wal
db.sqlite3-shm
```

When you want a single self-contained file, checkpoint first:

```bash
sqlite3 db.sqlite3 "PRAGMA wal_checkpoint(TRUNCATE);"
```

To copy or back up a database that is in use, let SQLite do it instead of `cp`:

```bash
sqlite3 db.sqlite3 ".backup backup.sqlite3"
# or, from SQL: VACUUM INTO 'backup.sqlite3';
```

One limitation: WAL needs every process to be on the same machine, because of the shared memory file. It does not work on network filesystems such as NFS or SMB, so don't put the database on a network share.
''')

chatgpt("What to plant in April in zone 6b raised beds", "2025-03-23 14:40", "gpt-4o", r'''
@@ user
I have three 4x8 raised beds in zone 6b, full sun. What can I plant directly in April, and what has to wait?
@@ assistant
In zone 6b the average last frost falls around late April to early May (check your exact date with your local extension service). April is for **cool-season crops**, which tolerate light frost.

**Sow directly in April** (once the soil can be worked and is about 40–45 °F / 5–7 °C):

- Peas: early April, with a trellis
- Spinach, lettuce, arugula, radishes
- Carrots, beets, Swiss chard
- Onion sets, and potatoes from mid-April

**Transplant in April, after hardening off:** broccoli, cabbage, kale, and onion seedlings.

**Wait until after the last frost, with soil above about 60 °F / 16 °C** (mid to late May): tomatoes, peppers, eggplant, cucumbers, squash, beans and basil. Planted earlier they sit and sulk, or die in a cold night.

**Square-foot spacing** for your 4×8 beds (32 squares each): radishes and carrots 16 per square, spinach and beets 9, lettuce 4, peas 8 along the trellis, kale and broccoli 1.
@@ user
Can you suggest a layout for the three beds so I get a continuous harvest into summer?
@@ assistant
Here's a plan that uses each bed twice. Put tall crops on the north side so they don't shade the rest.

**Bed 1: greens, then beans**
- April: spinach, lettuce, arugula and radishes in rows.
- Sow a short row of lettuce and radish every two weeks until mid-May.
- Late May, as the greens bolt: bush beans. Sow again in early July for a second crop.

**Bed 2: the tomato bed**
- April: radishes and lettuce, which are harvested before the tomatoes need the space.
- Mid-May: 4 tomatoes along the north edge with cages, 2 peppers and basil in front.

**Bed 3: trellis bed**
- April: peas on a trellis along the north edge; carrots and beets in front.
- Late June, when the peas finish: cucumbers on the same trellis.
- August: sow kale, spinach and radishes for a fall harvest.

Next year, rotate: tomatoes move to bed 3, and peas and beans go where the tomatoes were. Rotating helps against soil-borne diseases such as early blight.
@@ user
How often should I water raised beds?
@@ assistant
Raised beds drain and warm faster than the ground, so they dry out faster. Rules of thumb:

- **Amount:** about 1 inch (2.5 cm) of water a week including rain, and up to double that in July heat. In a 4×8 bed, 1 inch is roughly 20 gallons (75 litres).
- **Frequency:** water deeply 2–3 times a week rather than a little every day. Deep watering grows deep roots; daily sprinkles keep roots near the surface.
- **Test:** push a finger 2 inches into the soil. Dry at that depth means water.
- **Seedlings and fresh seeds:** keep the top layer moist, which can mean a light watering every day for the first two weeks.
- **Time of day:** morning, at the soil rather than on the leaves, which reduces fungal diseases on tomatoes.

Drip lines or soaker hoses on a cheap battery timer make this almost effortless. Once the soil has warmed in late May, add 2–3 inches of straw mulch; it can halve how often you need to water.
''')

chatgpt("Kyoto itinerary for 4 days in November", "2025-04-11 00:55", "gpt-4o", r'''
@@ user
I'm going to Kyoto for 4 full days in mid-November, staying near Gion. Can you plan a day-by-day itinerary that avoids the worst crowds?
@@ assistant-old
Here is a classic four-day plan for Kyoto:

**Day 1:** Fushimi Inari Taisha in the morning, then Kiyomizu-dera and the old streets of Higashiyama. Evening walk in Gion.

**Day 2:** Arashiyama: the bamboo grove, Tenryu-ji temple and the monkey park. Return via the Togetsukyo bridge.

**Day 3:** Kinkaku-ji (the Golden Pavilion), Ryoan-ji's rock garden and Nijo Castle. Nishiki Market in the afternoon.

**Day 4:** A day trip to Nara to see Todai-ji and the deer park, or a slower day along the Philosopher's Path.

Mid-November is autumn leaf season, one of the busiest times of the year, so book accommodation and any special visits early. Buses get very crowded; the subway and trains are often faster. Enjoy your trip!
@@ assistant
Mid-November is peak autumn-leaf season, so the trick is to group sights by area and reach the famous ones at opening time.

**Day 1 · Higashiyama (walkable from Gion)**
- 6:00 Kiyomizu-dera opens; you'll have the wooden stage nearly to yourself.
- Walk down Sannenzaka and Ninenzaka before 8:30, when the shops open and the crowds arrive.
- Kodai-ji, then Yasaka Shrine and Maruyama Park.
- Dusk: Gion Shirakawa and Hanamikoji.

**Day 2 · South Kyoto**
- 7:00 Fushimi Inari (open 24 hours). Climbing past the Yotsutsuji intersection thins the crowds dramatically.
- Tofuku-ji at opening: its Tsutenkyo bridge is one of the best maple views in Kyoto, and queues form quickly.
- Afternoon: Nishiki Market and Teramachi.

**Day 3 · West Kyoto**
- Before 8:00: Arashiyama bamboo grove.
- Tenryu-ji garden (opens 8:30), then Okochi Sanso villa.
- Afternoon: taxi about 20 minutes to Kinkaku-ji and Ryoan-ji.

**Day 4 · Northern Higashiyama**
- Ginkaku-ji at 8:30, then the Philosopher's Path south.
- Nanzen-ji and its aqueduct.
- Evening: Eikan-do's autumn illumination (timed tickets, worth it).

Check the leaf forecasts in late October; peak color usually comes between the 15th and 30th.
@@ user
Is it worth getting a bus pass? And how do I get from Kansai airport to Gion?
@@ assistant
**Bus pass: probably not.** The old ¥700 bus-only day pass was discontinued in 2023. What remains is the **subway and bus one-day pass at ¥1,100**, while a single city bus ride costs a flat ¥230, so the pass only pays off at five or more rides a day. In November buses are packed and slow; your itinerary mostly works with walking, trains and the odd taxi.

Get an **ICOCA** card instead (Suica and PASMO work too, including on an iPhone). Tap in and out on trains, subway and buses and stop thinking about fares.

**Kansai airport to Gion:**

1. **JR Haruka** limited express to Kyoto Station, about 75–80 minutes. Foreign visitors can buy the discounted *ICOCA & HARUKA* set.
2. From Kyoto Station a **taxi to Gion** takes 15–20 minutes and costs roughly ¥2,000–2,500, the easiest option with luggage.
3. Alternatively the **Airport Limousine Bus** goes to Kyoto Station in about 90 minutes, handy if the Haruka timing doesn't fit.

If you arrive late, check the last Haruka departure before booking your flight.
@@ user
Could I fit in Nara without losing one of these days?
@@ assistant
Yes, as a half day if you're willing to start early. Nara is compact and its main sights are clustered in Nara Park.

**Getting there:** from Kyoto Station, the **Kintetsu Kyoto Line** goes to Kintetsu-Nara Station in about 35 minutes by limited express (extra fee) or about 45–50 minutes by express. The JR Miyakoji rapid takes about 45 minutes to JR Nara, which is a longer walk from the park. Your ICOCA works on both, but not for the Kintetsu limited express surcharge.

**Half-day route (about 5 hours):**
- Kofuku-ji's five-storey pagoda, right by the station.
- Nara Park: the deer bow if you bow first. Buy *shika senbei* crackers (about ¥200) and hide paper maps, because they eat them.
- Todai-ji and its giant bronze Buddha (go early; school groups arrive mid-morning).
- Kasuga Taisha through the lantern-lined forest path.

To make room, turn Day 2 around: Nara in the morning, then back towards Kyoto on the JR Nara Line. Inari Station is on that line (local trains), so Fushimi Inari fits in the late afternoon; it's open 24 hours and the upper paths are quiet around dusk. Tofuku-ji, the next stop, closes mid-afternoon, so it's the one sight you may have to drop, and Nishiki Market moves to the late afternoon of Day 1, before Gion at dusk.
''')

chatgpt("Slow Postgres query on the shipment table", "2025-04-29 16:10", "o3", r'''
@@ user
This query takes 1.8 s on a 40M-row table: SELECT * FROM shipment WHERE customer_id = $1 AND status = 'in_transit' ORDER BY created_at DESC LIMIT 50. There's an index on customer_id. What index should I add?
@@ assistant
With only `customer_id` indexed, Postgres finds *every* shipment of that customer (possibly hundreds of thousands for a big account), filters them by status, sorts them all, then keeps 50. Confirm with:

```sql
EXPLAIN (ANALYZE, BUFFERS)
SELECT * FROM shipment
WHERE customer_id = 4812 AND status = 'in_transit'
ORDER BY created_at DESC
LIMIT 50;
```

You'll likely see a Bitmap Heap Scan, a large "Rows Removed by Filter", and a Sort node.

An index whose columns match **equality columns first, then the sort column** lets Postgres read the first 50 matching rows in order and stop:

```sql
CREATE INDEX CONCURRENTLY shipment_cust_status_created_idx
    ON shipment (customer_id, status, created_at);

-- If nearly all queries look at active shipments, a partial index is smaller:
CREATE INDEX CONCURRENTLY shipment_in_transit_idx
    ON shipment (customer_id, created_at)
    WHERE status = 'in_transit';
```

`DESC` isn't needed here: with all leading columns fixed by equality, Postgres can scan the index backwards. Afterwards the plan should show `Limit -> Index Scan Backward` with no Sort node, and the query should take a few milliseconds.
@@ user
How do I add that in a Django migration without locking the table?
@@ assistant
Use `AddIndexConcurrently` from `django.contrib.postgres`, and mark the migration non-atomic, because `CREATE INDEX CONCURRENTLY` cannot run inside a transaction:

```python
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("shipping", "0042_shipment_carrier_ref")]

    operations = [
        AddIndexConcurrently(
            "shipment",
            models.Index(
                fields=["customer", "created_at"],
                name="shipment_in_transit_idx",
                condition=models.Q(status="in_transit"),
            ),
        ),
    ]
```

Also add the same `models.Index(...)` to `Shipment.Meta.indexes`; otherwise the next `makemigrations` thinks the index should be removed. Django limits index names to 30 characters.

If the build fails halfway (a deadlock or a unique violation), Postgres leaves an **INVALID** index behind. Find it with `SELECT indexrelid::regclass FROM pg_index WHERE NOT indisvalid;`, drop it with `DROP INDEX CONCURRENTLY`, and rerun the migration.
@@ user
After deploying, EXPLAIN shows the new index being used, but the query still takes 300 ms sometimes.
@@ assistant
If the plan is right, occasional slowness usually comes from I/O, statistics or waiting rather than the index itself. Work through these:

1. **Cold cache.** Run `EXPLAIN (ANALYZE, BUFFERS)` on a slow case. `shared read=...` (disk) instead of `shared hit=...` means the pages weren't cached. `SELECT *` on 50 rows spread over the table can touch 50 heap pages; selecting only the columns you need, or an `INCLUDE` covering index, helps.
2. **Outliers in aggregate.** With `pg_stat_statements` enabled, compare `mean_exec_time` with `max_exec_time` and `stddev_exec_time` for this query.
3. **Catch the plan of a slow run.** `auto_explain` with `auto_explain.log_min_duration = '200ms'` logs the plan of exactly the slow executions.
4. **Lock waits.** Look for this query in `pg_stat_activity` with `wait_event_type = 'Lock'` during a slow period.
5. **Stale statistics** after a bulk import: run `ANALYZE shipment;` and check `last_autoanalyze` in `pg_stat_user_tables`.

In my experience it's usually the first one, caused by a cold replica or a big batch job evicting the cache.
''')

chatgpt("Porting the ingest service from Python to Rust", "2025-05-16 18:25", "o3", r'''
@@ user
We have a Python service that ingests about 3k carrier webhooks per second at peak, validates the JSON and writes to Postgres and Kafka. Management agreed to a Rust rewrite. What crates would you pick, and how would you structure it?
@@ assistant
A boring, well-trodden stack:

- **tokio**: the async runtime
- **axum**: HTTP routing and extractors, built on tower and hyper
- **serde / serde_json**: parse payloads straight into typed structs; most validation comes for free
- **sqlx**: async Postgres with compile-time checked queries and migrations
- **rdkafka**: bindings to librdkafka, the same client library most Python Kafka clients use
- **tracing** with **tracing-subscriber**: structured logs and spans
- **thiserror / anyhow**: typed errors in libraries, easy ones in `main`
- **tower-http**: timeouts, request ids, body limits

Use a Cargo workspace: `domain` (types and validation, no I/O), `storage` (sqlx and Kafka), and a thin `ingest-api` binary:

```rust
#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().json().init();
    let state = AppState::connect(Config::from_env()?).await?;

    let app = Router::new()
        .route("/webhooks/{carrier}", post(handlers::ingest))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(state);

    let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
    axum::serve(listener, app).await?;
    Ok(())
}
```

Migrate with the strangler pattern: route one carrier to the Rust service at the ingress, compare its output against the Python one, then move carriers over one at a time.
@@ user
Should the handler write to Postgres and Kafka before returning 200, or queue things internally?
@@ assistant
Carriers retry on errors, so the question is what you promise when you return 2xx. Options:

1. **Write to both before responding.** Simple, but a Kafka hiccup now fails webhooks, and you can still end up with a row in Postgres and nothing in Kafka.
2. **An in-memory queue.** Fast, but everything in the queue is lost when a pod is killed during a deploy.
3. **Postgres plus a transactional outbox (recommended).** In one short transaction, insert the raw event and an `outbox` row, commit, and return `202 Accepted`. A separate relay task reads the outbox, publishes to Kafka and marks rows as sent. Postgres is the source of truth, and Kafka delivery is at-least-once.

Whatever you pick, put a bound on work in flight and push back instead of buffering forever:

```rust
match state.events.try_send(event) {
    Ok(()) => StatusCode::ACCEPTED.into_response(),
    Err(TrySendError::Full(_)) => {
        (StatusCode::SERVICE_UNAVAILABLE, [("retry-after", "5")]).into_response()
    }
    Err(TrySendError::Closed(_)) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
}
```

Carriers handle a 503 with `Retry-After` far better than a timeout.
@@ user
How do I convince the team that tokio isn't going to be harder to debug than our Python asyncio code?
@@ assistant
Show, don't argue. A one-week spike covering one carrier end to end answers most of the doubts. Points worth demonstrating:

- **The compiler catches a whole class of bugs up front:** data races, sending non-thread-safe values between tasks, and forgetting to await something (`#[must_use]` on futures) are compile errors or warnings, not production incidents.
- **`tracing` spans** with `#[tracing::instrument]` give every log line the request id and carrier, across `.await` points.
- **tokio-console** shows every task live: how long it has been polled, how often it woke and whether it's stuck. Build with `RUSTFLAGS="--cfg tokio_unstable"` and add `console_subscriber::init()`.
- **Timeouts are explicit:** wrap outbound calls in `tokio::time::timeout` or use tower's timeout layer.

Be honest about the pitfalls too, since asyncio has the same ones: never block a runtime thread (use `spawn_blocking` for CPU-heavy or synchronous code), and don't hold a `std::sync::Mutex` guard across an `.await` (clippy's `await_holding_lock` lint flags it).

Finish the spike with a load test (`oha` or k6) and a `cargo flamegraph`; numbers persuade people more than opinions do.
''')

chatgpt("Rolling over an old 401(k)", "2025-06-03 01:40", "gpt-4o", r'''
@@ user
I left my previous job last year and still have a 401(k) there with about $38k, all pre-tax. What are my options, and what's the catch with each?
@@ assistant
You have four options. This is general information, not personal advice:

1. **Leave it where it is.** Allowed for balances over $7,000. No effort, but you keep managing another account, and you're stuck with that plan's funds and fees.
2. **Roll it into your current employer's 401(k)**, if the plan accepts roll-ins. One account, strong creditor protection, and it keeps your IRA balance at zero (see below).
3. **Roll it into a traditional IRA.** The widest choice of low-cost funds. The catch: it affects backdoor Roth contributions.
4. **Cash out.** Income tax plus a 10% penalty if you're under 59½, and 20% is withheld up front. Almost always a bad idea.

**Two rules that trip people up:**

- **Use a direct rollover** (trustee to trustee). If the check is made out to you, the old plan withholds 20%, and you have 60 days to deposit the *full* amount, making up the withheld part from your own pocket, or the difference is taxed.
- **The pro-rata rule:** if you make backdoor Roth contributions, any pre-tax IRA money you hold on December 31 makes part of the conversion taxable (reported on Form 8606). Rolling $38k into an IRA would spoil that.

Compare the fund expense ratios in both 401(k) plans before deciding.
@@ user
I do a backdoor Roth every year. So I should roll it into my current 401(k)? How does that actually work?
@@ assistant
If your current plan has decent funds, yes; that keeps your backdoor Roth clean. The usual steps:

1. **Check that the plan accepts roll-ins.** Look at the Summary Plan Description or ask HR, and get the plan's *incoming rollover* form from the recordkeeper's website.
2. **Start the distribution at the old plan.** Choose "direct rollover to another qualified plan". They'll ask for the new plan's name, the recordkeeper's mailing address and your account number.
3. **Check the payee line.** It should read something like "[New Plan Trustee] FBO [your name]". Some plans mail that check to you; that's still a direct rollover, just forward it promptly with the rollover form.
4. **Confirm the deposit and invest it.** Rolled-in money often lands in a default fund or money market until you choose investments.
5. **Taxes:** next year you'll get a **1099-R with code G** (direct rollover). Report it on your 1040 as a distribution with a taxable amount of $0.

Keep copies of the distribution confirmation, the check and the deposit confirmation until the 1099-R has been filed correctly.
@@ user
Roughly how long does this take, and will my money be out of the market in the meantime?
@@ assistant
**Timeline:** usually 2–6 weeks end to end. Roughly a week for the old plan to process the request, a week or more if a paper check is mailed, and several days for the new recordkeeper to apply it. Electronic transfers are faster, so ask whether the old plan can send the money by wire or ACH.

**Out of the market: yes, briefly.** Between 401(k) plans the holdings are almost always sold and moved as cash, since in-kind transfers between different plans are rare. You'll typically be in cash for one to three weeks. Over a period that short the market is as likely to rise as to fall, so don't try to time it; just don't let the check sit on your desk.

A few things to check before you start:

- **An outstanding 401(k) loan** at the old plan becomes a distribution (a "loan offset") unless you repay it.
- **The pro-rata rule looks at December 31,** so finish before year end if the money is going anywhere near an IRA.
- **After it lands,** check the allocation; rolled-in money doesn't always follow your existing fund choices.
''')

chatgpt("Japanese phrases for restaurants and shops", "2025-06-21 13:15", "gpt-4o", r'''
@@ user
I'm going to Kyoto in November and want to learn some polite phrases for restaurants and shops. Can you give me the essentials with pronunciation?
@@ assistant
Here are the phrases you'll use every day:

| Japanese | Romaji | Meaning |
|---|---|---|
| すみません | sumimasen | Excuse me / sorry (also to call a waiter) |
| ありがとうございます | arigatō gozaimasu | Thank you |
| 二人です | futari desu | Two people, please (when entering) |
| これをください | kore o kudasai | This one, please (pointing) |
| おすすめは何ですか | osusume wa nan desu ka | What do you recommend? |
| 英語のメニューはありますか | eigo no menyū wa arimasu ka | Do you have an English menu? |
| お会計お願いします | okaikei onegaishimasu | The bill, please |
| カードで払えますか | kādo de haraemasu ka | Can I pay by card? |
| 大丈夫です | daijōbu desu | I'm fine / no thank you |
| ごちそうさまでした | gochisōsama deshita | Thank you for the meal (when leaving) |

**Pronunciation tips**

- Vowels are short and pure: *a* as in "father", *i* as in "machine", *u* as in "food", *e* as in "bed", *o* as in "more".
- The *u* in *desu* and *-masu* is nearly silent: "dess", "mass".
- Long vowels (ō, ū) are held twice as long, and it changes meaning.
- Say every syllable with even stress; Japanese doesn't stress syllables the way English does.
@@ user
How do I say I'm allergic to shellfish? And is tipping expected?
@@ assistant
**Allergy phrases**

- 甲殻類アレルギーがあります (*kōkakurui arerugī ga arimasu*): "I have a crustacean allergy". This covers shrimp, crab and lobster.
- エビとカニが食べられません (*ebi to kani ga taberaremasen*): "I can't eat shrimp or crab".
- If molluscs are also a problem, add 貝 (*kai*, clams, scallops) and イカ (*ika*, squid).
- これに入っていますか (*kore ni haitte imasu ka*): "Is it in this?"

Carry a small printed card with the allergy written in Japanese and show it when ordering; it's more reliable than pronunciation in a busy restaurant. Watch out for tempura batter and oil shared with shrimp, rice crackers (*senbei*) flavoured with shrimp, and *dashi* stocks, which are usually bonito or kelp but occasionally include shellfish.

**Tipping:** not expected, and it can cause confusion; staff may chase you down the street to return your money. Good service is included. In many restaurants you pay at the register (*reji*) by the door rather than at the table, and in shops you put cash or your card in the small tray on the counter instead of handing it over.
@@ user
What does "irasshaimase" mean, and do I need to reply?
@@ assistant
いらっしゃいませ (*irasshaimase*) means "welcome, please come in". Staff call it out when anyone enters, often several people at once. **You don't need to reply**; a nod or a smile is perfect, and nobody says it back.

Other things you'll hear in restaurants and shops, with easy answers:

- 何名様ですか (*nan-mei sama desu ka*): "How many people?" Hold up fingers or say *futari desu*.
- 少々お待ちください (*shōshō omachi kudasai*): "Please wait a moment."
- 袋はご利用ですか (*fukuro wa go-riyō desu ka*): "Do you need a bag?" Bags cost a few yen: *hai* (yes) or *daijōbu desu* (no thanks).
- ポイントカードはお持ちですか (*pointo kādo wa omochi desu ka*): "Do you have a points card?" Answer *iie* (no) or *daijōbu desu*.
- お支払いはご一緒でよろしいですか (*o-shiharai wa go-issho de yoroshii desu ka*): "Paying together?" Say *hai* or *betsubetsu de* (separately).

In convenience stores you'll also be asked if you want your food heated: *atatamemasu ka?* Answer *hai, onegaishimasu* or *daijōbu desu*.
''')

chatgpt("Rolling deploy drops requests on Kubernetes", "2025-07-15 15:05", "o3", r'''
@@ user
During a rollout of our Django app (gunicorn behind ingress-nginx) we get a burst of 502s for about 5 seconds. We do have a readiness probe. What's going on?
@@ assistant
A readiness probe only protects pods on the way *in*. On the way *out* there is a race: when a pod is deleted, the kubelet sends SIGTERM to gunicorn **at the same time** as the endpoint is removed from the Service. ingress-nginx (and kube-proxy on other nodes) learns about the removal a few seconds later, and meanwhile keeps sending requests to a gunicorn that has already stopped accepting them, hence the 502s.

The fix is to keep serving for a few seconds after termination starts:

```yaml
spec:
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 0
      maxSurge: 25%
  template:
    spec:
      terminationGracePeriodSeconds: 45
      containers:
        - name: web
          image: registry.example.com/shipping-web:1.42.0
          lifecycle:
            preStop:
              sleep:
                seconds: 10   # Kubernetes 1.30+; see below for older clusters
          readinessProbe:
            httpGet: {path: /healthz/ready, port: 8000}
            periodSeconds: 5
            failureThreshold: 2
```

Order of events: preStop sleeps 10 s while the endpoint removal propagates, then gunicorn gets SIGTERM and finishes in-flight requests within its `--graceful-timeout` (30 s by default). The grace period has to cover both: 10 + 30 < 45. `maxUnavailable: 0` makes sure new pods are ready before old ones go.
@@ user
We're on EKS 1.29. Also, our image is distroless, so there's no sleep binary.
@@ assistant
On 1.29 the native `sleep` action is still alpha behind the `PodLifecycleSleepAction` feature gate, and EKS doesn't let you enable alpha gates. It became beta and on by default in 1.30, so upgrading is the clean fix. Until then:

**Use the interpreter you already have.** A distroless Python image contains `python3`, so an exec hook works:

```yaml
lifecycle:
  preStop:
    exec:
      command: ["python3", "-c", "import time; time.sleep(10)"]
```

**Or copy a static sleep into the image:**

```dockerfile
COPY --from=busybox:1.36-musl /bin/busybox /busybox
# preStop: exec: command: ["/busybox", "sleep", "10"]
```

**Or handle it in the app:** catch SIGTERM, mark the readiness endpoint as failing, wait 10 s, then begin the normal shutdown. More code, but it works everywhere.

If you use the AWS Load Balancer Controller with IP targets instead of ingress-nginx, also look at its deregistration delay and pod readiness gates; the same race exists between the pod and the ALB target group.
@@ user
The 502s are gone, but a few requests still get connection resets at the very end, and gunicorn logs "Worker exiting" while requests are in flight.
@@ assistant
That's usually one of two things.

**1. Keep-alive timeouts in the wrong order.** nginx reuses idle upstream connections. If gunicorn closes an idle keep-alive connection at the same moment nginx sends a new request on it, nginx gets a reset. The rule: the **backend's idle timeout must be longer than the proxy's**. ingress-nginx keeps upstream connections for 60 s by default (`upstream-keepalive-timeout`), while gunicorn's `--keep-alive` defaults to 2 s. If you run `gthread` workers (you do if you pass `--threads`), set:

```bash
gunicorn config.wsgi --workers 4 --threads 8 --keep-alive 75 --graceful-timeout 30
```

The default `sync` workers don't keep connections alive at all, so this doesn't apply to them.

**2. Requests longer than the graceful timeout.** Workers still busy after `--graceful-timeout` are killed. Check your slowest endpoints (exports and reports are typical) and either move them to Celery or raise both `--graceful-timeout` and `terminationGracePeriodSeconds`.

To verify, run a small constant load with `oha -z 2m -q 50 https://staging.example.com/healthz` during a rollout and count the non-2xx responses.
''')

chatgpt("Let's Encrypt vs Cloudflare origin certificates", "2025-08-10 20:30", "gpt-5", r'''
@@ user
My personal site and a small side project sit behind Cloudflare with the proxy on (orange cloud). For the origin server, should I use a Let's Encrypt certificate or a Cloudflare Origin CA certificate?
@@ assistant
Visitors never see your origin certificate: they see Cloudflare's edge certificate (Universal SSL). The origin certificate only secures the hop from Cloudflare to your server, so the real question is what you want that hop to depend on.

| | Let's Encrypt | Cloudflare Origin CA |
|---|---|---|
| Validity | 90 days | up to 15 years |
| Trusted by | every browser | only Cloudflare's proxy |
| Renewal | automatic (certbot, cert-manager), must keep working | practically never |
| Proxy off (grey cloud) | still works | browsers show a certificate error |
| Portability | any CDN, or none | tied to Cloudflare |

Either way, set the SSL/TLS mode to **Full (strict)**, so Cloudflare validates the origin certificate. Avoid *Flexible*: the Cloudflare-to-origin hop is then plain HTTP, and it often causes redirect loops.

**My suggestion:** the Origin CA certificate if the sites will always stay behind the proxy and you want zero maintenance; Let's Encrypt if you might ever switch the proxy off, serve some traffic directly, or move away from Cloudflare. For a bit more lock-down, enable Authenticated Origin Pulls or allow only Cloudflare's IP ranges in the firewall.
@@ user
I'll go with Let's Encrypt. Port 80 on the server is only reachable through Cloudflare. Will the HTTP-01 challenge work?
@@ assistant
It can, since Let's Encrypt reaches `http://yourdomain/.well-known/acme-challenge/...` through Cloudflare like any visitor, but it gets fiddly: "Always Use HTTPS" redirects the challenge to HTTPS, which is fine only once the origin already has a valid certificate. The first issuance with Full (strict) turns into a chicken-and-egg problem.

**DNS-01 avoids all of that** and also allows wildcard certificates. certbot has a Cloudflare plugin:

```bash
sudo apt install certbot python3-certbot-dns-cloudflare

# an API token limited to Zone > DNS > Edit for this one zone
sudo install -m 600 /dev/null /etc/letsencrypt/cloudflare.ini
sudoedit /etc/letsencrypt/cloudflare.ini   # dns_cloudflare_api_token = <your token>

sudo certbot certonly --dns-cloudflare \
  --dns-cloudflare-credentials /etc/letsencrypt/cloudflare.ini \
  -d example.com -d '*.example.com' \
  --deploy-hook "systemctl reload nginx"
```

The Debian and Ubuntu package installs a `certbot.timer` that renews twice a day when a certificate is within 30 days of expiry; check it with `systemctl list-timers certbot.timer` and `sudo certbot renew --dry-run`. The deploy hook is saved with the certificate, so nginx reloads after every renewal.
@@ user
At work we use cert-manager on Kubernetes. Is it the same idea there?
@@ assistant
Exactly the same idea: an ACME issuer with a DNS-01 solver for Cloudflare. Store the API token in a Secret (in the cert-manager namespace for a ClusterIssuer) and reference it:

```yaml
apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata:
  name: letsencrypt-prod
spec:
  acme:
    server: https://acme-v02.api.letsencrypt.org/directory
    privateKeySecretRef:
      name: letsencrypt-prod-account-key
    solvers:
      - dns01:
          cloudflare:
            apiTokenSecretRef:
              name: cloudflare-api-token
              key: api-token
```

Then annotate the Ingress with `cert-manager.io/cluster-issuer: letsencrypt-prod` and add a `tls:` section with the hosts and a `secretName`; cert-manager creates the Certificate, solves the challenge and renews it about 30 days before expiry.

Two tips:

- **Test against staging first** (`https://acme-staging-v02.api.letsencrypt.org/directory`). Production has rate limits: 50 new certificates per registered domain per week, and 5 for the exact same set of names.
- **Debug** with `kubectl describe certificate`, then `kubectl get certificaterequest,order,challenge -A`; the Challenge resource usually says exactly what failed.
''')

chatgpt("Cover letter for a senior backend role", "2025-09-02 23:50", "gpt-5", r'''
@@ user
Can you help me write a cover letter for a Senior Backend Engineer role at Northwind Freight? The posting mentions Python, Rust, high-volume event ingestion and Kubernetes. I have 7 years of experience, mostly Django and Postgres, and I'm leading our Python-to-Rust migration of a webhook ingest service.
@@ assistant
Here's a draft. Replace the bracketed parts and keep the numbers only if they're accurate.

---

Dear Northwind Freight hiring team,

I'm applying for the Senior Backend Engineer role because your team works on the problem I enjoy most: moving large volumes of logistics events reliably from the outside world into systems people depend on.

For the past seven years I've built backend systems in Python, Django and PostgreSQL, most recently at [current company], where our platform ingests around 3,000 carrier webhooks per second at peak. This year I've led the migration of that ingest service from Python to Rust (tokio, axum, sqlx). I designed the transactional outbox that feeds Kafka and set up the load tests we use to compare the two implementations.

I also care about operations. I removed the 502s from our Kubernetes rolling deploys, cut our busiest admin page from 412 queries to 9, and write postmortems that lead to fixes instead of blame.

I'd be glad to bring that mix of Rust, Python and production pragmatism to Northwind's ingestion platform. Thank you for your time; I look forward to talking.

Best regards,
[Your name]
@@ user
The opening sounds generic. Can you give me a couple of stronger first paragraphs?
@@ assistant
Sure. A strong opening says something only *you* could write, ideally connected to their problem. Three options:

**1. Lead with the overlap**
"Your posting describes the system I've spent this year rebuilding: a high-volume event ingestion service, moving from Python to Rust, running on Kubernetes. I'd like to bring what I learned from that migration to Northwind Freight."

**2. Lead with a result**
"In the last six months I moved 30% of our carrier webhook traffic, about 900 requests per second at peak, from a Python service to a Rust one I designed, with p99 latency falling from 480 ms to under 40 ms. Northwind's ingestion platform is where I'd like to do that work next."

**3. Lead with a specific interest**
"I read your engineering blog post about replaying delayed tracking events, and it matched a problem we hit when carriers resend webhooks out of order."

Only use the third one if there is a real post you read; invented specifics backfire in interviews.

Option 2 is the strongest for a senior role: it proves scope and outcome in one sentence. Keep the rest of the letter short so the opening carries it.
@@ user
Should I mention that the Rust service isn't fully in production yet?
@@ assistant
Yes, but frame it as scope, not as a weakness. Interviewers *will* ask, and if the letter implies "fully migrated", the honest answer sounds like a correction instead of a detail.

Phrasing that is accurate and still strong:

- "...now serving 30% of carrier traffic, with the rest moving carrier by carrier through the end of the year."
- "...running in production for our three largest carriers since July."

Being mid-migration is also a talking point: you can explain how you de-risk a rewrite (shadow traffic, output comparison, per-carrier rollout, a fast rollback path). Hiring managers for senior roles often care more about that judgment than about a finished rewrite.

What to avoid: "rewrote our ingestion platform in Rust" (overclaims), or burying the Rust work because it isn't done, since it's the most relevant thing you've got for this role.
''')

chatgpt("Sourdough: flat loaves at 78% hydration", "2025-10-06 00:20", "gpt-5", r'''
@@ user
My sourdough loaves at 78% hydration come out flat and spread on the peel. Bulk fermentation is about 5 hours at 24°C, then overnight in the fridge. What's most likely wrong?
@@ assistant
Flat loaves come from four causes: fermentation (too little or too much), dough strength, shaping, or a dough too wet for the flour. Judge bulk by the dough, not the clock; five hours at 24 °C can be right or wrong depending on your levain and flour.

**Checklist, in order of likelihood:**

1. **Bulk end point.** With about 20% levain at 24 °C, bulk is usually done at a **50–75% rise** in volume: domed, jiggly, bubbles along the sides of a straight-sided container. Use the rise, not the hours.
2. **Flour versus hydration.** 78% is a lot for all-purpose flour (10–11% protein). Use bread flour (12.5–13%) or drop to 72% and work back up.
3. **Strength.** Do 4 sets of stretch and folds or coil folds in the first 2 hours of bulk.
4. **Shaping.** Pre-shape into a round, rest 20–30 minutes, then do a tight final shape that builds surface tension.
5. **Cold retard.** The fridge should be 3–4 °C; a warm fridge keeps fermenting overnight.

**Bake** straight from the fridge in a Dutch oven preheated to 250 °C: 20 minutes with the lid on, then 20–25 minutes at 230 °C with the lid off.

What does the crumb look like? That tells us whether it's under or over.
@@ user
The crumb has a few big holes right under the crust and is dense and gummy at the bottom.
@@ assistant
That's the classic sign of **underfermentation** (the big tunnel under the crust is sometimes called "fool's crumb"). The dough didn't have enough gas and structure when it went into the fridge, so the oven spring tore a few big holes and the bottom stayed tight.

**Fixes:**

- **Extend bulk** until you see about a 75% rise, a domed surface, bubbles on the sides and a dough that jiggles when you shake the container. At 24 °C that might be 6–7 hours instead of 5.
- **Control dough temperature.** Aim for 25–26 °C right after mixing. A quick way to pick the water temperature: **water = (desired temperature × 4) − (room + flour + levain temperature)**. For 26 °C in a 22 °C kitchen with 22 °C flour and a 24 °C levain: 104 − 68 = 36, so use water at about 36 °C (a little cooler if a stand mixer warms the dough).
- **Use the levain at its peak**, when it has just stopped rising, not after it has collapsed.
- **Let it cool fully.** Cutting within 1–2 hours of baking makes any crumb gummy, which exaggerates the problem.
@@ user
Can I use the aliquot jar method to judge bulk?
@@ assistant
Yes, and it's the best fix for guessing. Right after mixing (after the salt goes in), put a small piece of dough, about 30–50 g, into a **straight-sided** small jar or shot glass, press it flat and mark the level with tape. Keep the jar next to the main dough so both stay at the same temperature.

The jar shows the rise precisely, even when the main dough spreads in a bowl. Rough targets before shaping:

| Dough temperature | Rise in the jar |
|---|---|
| 27 °C | about 40–50% |
| 24–25 °C | about 50–75% |
| 21–22 °C | about 75–100% |

Warmer doughs need less rise because they keep fermenting faster while you shape and as they cool in the fridge. Start in the middle of the range for your temperature, write down the result, and adjust by 10–15 percentage points per bake: more rise if the crumb is still tight, less if the loaf spreads and tastes very sour.

Finish by poking the dough itself. At the end of bulk it should feel airy and pillowy, and a floured finger dent should spring back slowly.
''')

chatgpt("SQLite FTS5 search for a Markdown notes tool", "2025-10-21 18:40", "gpt-5", r'''
@@ user
I'm writing a small personal tool that indexes my Markdown notes (about 4,000 files) into SQLite so I can search them from the terminal. Is FTS5 the right choice, and how should I set up the tables?
@@ assistant
FTS5 is a good fit: it is compiled into the SQLite that Python's official builds and most Linux distributions ship, it handles millions of rows, and it gives you ranking (`bm25`) and highlighted snippets for free.

Keep the notes in a normal table and make the index an **external-content** FTS5 table, so the text is stored only once:

```sql
CREATE TABLE note (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    mtime REAL NOT NULL
);

CREATE VIRTUAL TABLE note_fts USING fts5(
    title, body,
    content='note', content_rowid='id',
    tokenize='porter unicode61 remove_diacritics 2'
);

CREATE TRIGGER note_ai AFTER INSERT ON note BEGIN
    INSERT INTO note_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
END;
CREATE TRIGGER note_ad AFTER DELETE ON note BEGIN
    INSERT INTO note_fts(note_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
END;
CREATE TRIGGER note_au AFTER UPDATE ON note BEGIN
    INSERT INTO note_fts(note_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
    INSERT INTO note_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
END;
```

The `'delete'` command needs the *old* values, which is why the triggers pass them. `porter` reduces words to a stem, so "baking" matches "bake"; `remove_diacritics 2` makes "café" match "cafe".
@@ user
How do I query it and show the matching part of each note?
@@ assistant
Join back to the content table, order by `rank` (by default the same as `bm25()`, where lower is better) and let `snippet()` cut out the matching part:

```python
import sqlite3


def search(conn: sqlite3.Connection, query: str, limit: int = 20) -> list[tuple[str, str]]:
    return conn.execute(
        """
        SELECT note.path,
               snippet(note_fts, 1, '[', ']', '…', 12) AS excerpt
        FROM note_fts
        JOIN note ON note.id = note_fts.rowid
        WHERE note_fts MATCH ?
        ORDER BY rank
        LIMIT ?
        """,
        (query, limit),
    ).fetchall()
```

The arguments of `snippet()` are the table, the column index (1 is `body`), the text to put before and after each match, the ellipsis, and the length of the excerpt in tokens (at most 64).

Always pass the query as a parameter, never with string formatting. That protects the SQL, but not the FTS5 query language itself: the text still goes to the MATCH parser, which has its own syntax.
@@ user
Yes, searching for node.js fails with "fts5: syntax error near ".""! How do I make arbitrary input safe?
@@ assistant
Quote every word as an FTS5 string. Inside double quotes every character is literal, and a double quote is escaped by doubling it:

```python
import re


def to_fts_query(text: str) -> str:
    words = re.findall(r"\S+", text)
    return " ".join('"' + w.replace('"', '""') + '"' for w in words)


to_fts_query("node.js C++ don't")  # '"node.js" "C++" "don\'t"'
```

Quoted words still go through the tokenizer, so `"node.js"` becomes the phrase "node js", which is what people mean. Words separated by spaces are combined with an implicit AND, and a word made only of punctuation becomes an empty phrase that matches nothing instead of raising an error.

If you want operators, parse a small syntax of your own and build the FTS5 query from it:

- a trailing `*` for prefixes goes *outside* the quotes: `"deploy"*`;
- `-word` must become `NOT`: FTS5 has no unary minus, and `a -b` fails with "no such column: b" because a minus starts a column filter;
- `NOT` needs something on its left, so drop an exclusion when no positive word is left.

That way a query can never crash the search, whatever someone types.
@@ user
Should I rebuild the index from scratch every time the tool runs?
@@ assistant
No, update it incrementally. Store each file's `mtime` (and, if you like, a content hash) in `note`, and on every run:

1. Walk the folder. `INSERT` new files and `UPDATE` files whose mtime or hash changed; the triggers keep `note_fts` in sync.
2. `DELETE` rows whose file no longer exists.
3. Do it all in **one transaction**. Thousands of small writes take well under a second that way, against many seconds with a commit per row.

Three maintenance commands are worth knowing:

```sql
-- rebuild the whole index from the note table
INSERT INTO note_fts(note_fts) VALUES ('rebuild');
-- merge index segments; makes queries a little faster
INSERT INTO note_fts(note_fts) VALUES ('optimize');
-- compare the index with the note table
INSERT INTO note_fts(note_fts, rank) VALUES ('integrity-check', 1);
```

Run `rebuild` after changing the tokenizer, or if you ever edit `note` with the triggers missing. The integrity check fails with "database disk image is malformed" when the index and the table disagree, which sounds scarier than it is: a `rebuild` fixes it. At your size, `optimize` once in a while is plenty.
''')

chatgpt("Five days in Lisbon in late April", "2025-11-14 21:10", "gpt-5", r'''
@@ user
We're planning five days in Lisbon next spring, arriving Thursday April 23 and leaving on the 28th. It's our first time in Portugal. Is that a good time to go, and how would you split the days?
@@ assistant
Late April is one of the best times to go: typically 18–22 °C in the afternoon, long evenings, and far fewer crowds than in summer. Bring a light rain jacket; spring showers are common.

One date to know: **April 25 is Freedom Day** (Dia da Liberdade), the national holiday for the 1974 Carnation Revolution. There's a big, cheerful parade down Avenida da Liberdade, red carnations everywhere, and some shops and museums close or keep holiday hours. It's worth planning around rather than avoiding.

A split that fits the weekdays:

- **Thu 23:** arrive, walk Baixa and Chiado, sunset at the Miradouro de São Pedro de Alcântara.
- **Fri 24:** Sintra as a day trip; a weekday is much calmer than the weekend.
- **Sat 25:** the parade in the morning, then Príncipe Real and its garden in the afternoon.
- **Sun 26:** Belém: Jerónimos Monastery, the Tower, the riverside walk and the famous custard tarts.
- **Mon 27:** Alfama and the castle early, fado in the evening.

Jerónimos and many museums are closed on Mondays, which is why Belém sits on Sunday. Book Sintra's Pena Palace online with a timed slot; it sells out.
@@ user
Is fado worth it or a tourist trap? And how do we get from the airport to a hotel in Chiado?
@@ assistant
Fado is worth it if you pick the format:

- **Casas de fado with dinner** (many in Alfama and Bairro Alto): professional singers, a set menu or a minimum spend, and silence during the songs. Quality varies; places where several fadistas sing short sets through the evening are usually the real thing. Book ahead.
- **Fado vadio**: amateur nights in small taverns where anyone can sing. Cheap, unpredictable, often wonderful.
- The **Museu do Fado** in Alfama is a good introduction before either.

**Airport to Chiado:**

1. **Metro:** the red line starts at the Aeroporto station. Change to the green line at Alameda and ride to Baixa-Chiado, about 30–35 minutes. At the machine, buy a reusable **navegante occasional** card (€0.50) and load single trips, pay-as-you-go "zapping" credit or a 24-hour Carris/Metro ticket.
2. **Taxi or ride-hailing:** 20–30 minutes depending on traffic. Chiado's streets are steep and narrow, so with big suitcases this is the easier option.

The 24-hour Carris/Metro ticket also covers trams, buses, the Glória and Bica funiculars and the Santa Justa lift, so it pays off on a hill-heavy day. Each person needs their own card.
@@ user
My partner really wants to ride tram 28. Any tips?
@@ assistant
Tram 28 is lovely and famously packed. Some tips:

- **Board at the start of the line.** Martim Moniz is the usual starting point; go before 9:00 or in the evening to get a seat. In the middle of the day, stops along the route often watch full trams pass by.
- **Pay with the card.** Buying a ticket from the driver costs much more than a trip on the navegante card, and the 24-hour ticket covers it.
- **Watch your bags.** Crowded trams on line 28 are Lisbon's best-known spot for pickpockets; keep phones and wallets in front pockets.
- **Ride it end to end once,** then use it as transport. It climbs through Graça and Alfama, passes the cathedral, drops into Baixa and continues through Chiado and Estrela to Campo de Ourique.

For the same old wooden trams with a fraction of the crowd, try **tram 24** from Camões up to Campolide, or **tram 12**, a short loop between Praça da Figueira and Alfama. And within Alfama itself, walking is often faster than any tram.
''')

chatgpt("asyncio.gather vs TaskGroup in the ingest service", "2025-12-04 16:30", "gpt-5", r'''
@@ user
In the Python version of our ingest service we call three enrichment APIs per event with asyncio.gather. When one call fails, the others keep running and we sometimes see connections piling up. Should we switch to TaskGroup? We're on Python 3.11.
@@ assistant
Yes. The difference is what happens on failure:

- **`asyncio.gather`** (without `return_exceptions=True`) raises the first exception to you, but the **other awaitables keep running** in the background. Their results and errors are silently discarded, and they hold connections until they finish.
- **`asyncio.TaskGroup`** (3.11+) cancels the remaining tasks as soon as one fails, waits for them to finish, and then raises an `ExceptionGroup` with every error. No task outlives the `async with` block.

```python
import asyncio


async def enrich(event: Event) -> Enriched:
    async with asyncio.TaskGroup() as tg:
        geo = tg.create_task(geo_api.lookup(event.address))
        carrier = tg.create_task(carrier_api.details(event.carrier_code))
        customer = tg.create_task(crm.customer(event.customer_id))
    return Enriched(event, geo.result(), carrier.result(), customer.result())
```

After the block all three tasks are done, so `.result()` never waits. Keep `gather(..., return_exceptions=True)` for the cases where you really want every call to run to the end and inspect each outcome yourself.
@@ user
How do we handle the ExceptionGroup? Today the caller has except httpx.HTTPError around the call.
@@ assistant
That `except` will silently stop matching: an `ExceptionGroup` is not an `httpx.HTTPError`, so the error flies past it. Use `except*`, which matches the exceptions *inside* the group:

```python
try:
    enriched = await enrich(event)
except* httpx.TimeoutException:
    raise RetryLater(event.id) from None
except* httpx.HTTPStatusError as group:
    for exc in group.exceptions:
        log.warning("enrichment failed", status=exc.response.status_code)
    raise RetryLater(event.id) from None
```

How it behaves:

- Each `except*` clause receives the part of the group that matches its type, as a smaller `ExceptionGroup`; iterate over `group.exceptions` for the individual errors.
- More than one clause can run for the same group, for example when one call timed out and another got a 500.
- Anything no clause matches is re-raised as an `ExceptionGroup` of the rest.
- A new exception raised inside a clause, like `RetryLater` here, propagates normally.

Add a test that makes two enrichment calls fail at once; that's the case a plain `except` handles wrongly.
@@ user
We also need an overall deadline of 2 seconds per event and at most 50 events in flight. What's the idiomatic way?
@@ assistant
`asyncio.timeout()` (also new in 3.11) for the deadline and a `Semaphore` for the concurrency limit:

```python
import asyncio

LIMIT = asyncio.Semaphore(50)


async def handle(event: Event) -> Enriched:
    async with LIMIT:
        async with asyncio.timeout(2.0):
            return await enrich(event)
```

When the deadline passes, the timeout cancels the task; the TaskGroup inside `enrich` cancels its children and waits for them, and you get a plain `TimeoutError` (in 3.11 `asyncio.TimeoutError` is the same class). Handle it next to the `except*` clauses, or let it count as a retry.

Two details:

- Put the semaphore **outside** the timeout, so waiting for a free slot doesn't eat into the 2 seconds.
- Keep per-request timeouts on the HTTP client as well (`httpx.AsyncClient(timeout=1.5)`), so a single hung connection fails on its own instead of always waiting for the overall deadline.

This mirrors what you're doing in the Rust service with `tokio::time::timeout` and a bounded channel.
''')


# --------------------------------------------------------------------------
# Claude and Gemini conversations (aimem JSONL). They pick up the same threads
# later on: the Rust port, the notes tool's FTS5 search, the trips, the garden.
# Same body format, without branches (the JSONL format has no message tree).

OTHERS: list[dict] = []


def claude(title: str, start: str, model: str, body: str) -> None:
    OTHERS.append({"source": "claude", "title": title, "start": start, "model": model, "body": body})


def gemini(title: str, start: str, model: str, body: str) -> None:
    OTHERS.append({"source": "gemini", "title": title, "start": start, "model": model, "body": body})


gemini("Half marathon race week", "2025-04-27 09:10", "gemini-2.0-flash", r'''
@@ user
My half marathon is next Sunday (May 4). Training went OK: my week-8 5K time trial was 26:40, and last week I ran 8 km at 5:38/km. What should race week look like, and what pace should I start at?
@@ assistant
Nice work getting through the block. Your numbers point to a finish **around 2:00–2:03**: a 26:40 5K predicts roughly 2:02, but your 8 km at goal pace is a good sign. Sub-2 is possible on a good day, so pace it so that you can still finish strongly if it isn't.

**Race week**

- **Mon:** rest.
- **Tue:** easy 5 km with 3 × 1 km at 5:41/km, as in your plan.
- **Wed:** easy 5–6 km.
- **Thu:** rest or 20 minutes very easy.
- **Fri:** rest.
- **Sat:** 15–20 minute shakeout with 3–4 short strides.

Cutting the volume by about half keeps you sharp while your legs recover. Sleep matters most on Thursday and Friday night; race-eve nerves are normal.

**Pacing**

- **km 1–5:** 5:45–5:50/km. It will feel too easy; that's the point.
- **km 5–16:** settle at 5:40–5:42/km if your breathing is controlled.
- **km 16 to the finish:** speed up only if you feel good.

Starting 10 seconds per km too fast costs far more in the last 5 km than it saves at the start.
@@ user
I've never used gels in training. Is it risky to try them on race day?
@@ assistant
It can be. "Nothing new on race day" exists because gels upset some stomachs, especially at effort. You have a few options:

- **Test this week.** Take one gel with water before Tuesday's workout and one during Saturday's shakeout. It won't train your gut, but it tells you whether that product sits well.
- **Use what the race hands out.** Check the race website for the brand and flavour at the aid stations and test exactly that one.
- **Skip gels altogether.** For a race of about two hours, a good carbohydrate breakfast and topped-up glycogen stores are usually enough. Gels help in the last third, but they aren't essential, and sports drink from the aid stations is a gentler alternative.

If you do take gels, the usual pattern is one at around 40–45 minutes and another at 80–90 minutes, always with a few sips of water. About 30–60 g of carbohydrate per hour is the common target for races of this length.
@@ user
What should I eat on the morning of the race? The start is at 7:30.
@@ assistant
Eat **2.5–3 hours before the start**, so around 4:30–5:00. Set an alarm and go back to bed afterwards if you like.

**What:** mostly carbohydrate, low in fat and fibre, and familiar. About 1–2 g of carbohydrate per kg of body weight; for someone weighing 70 kg that's 70–140 g. For example:

- a bagel or two slices of white toast with jam or honey, and a banana;
- or a bowl of oatmeal with honey and a banana, if oats agree with you before runs.

**Drinks:** coffee if you normally have it, since it helps many runners. Drink 400–600 ml of water with breakfast, then sip; stop drinking large amounts about 45 minutes before the start to avoid a portable toilet queue mid-race.

**Optional:** a small snack 30–45 minutes before the start, such as half a banana or a few sweets, if you tend to get hungry.

Use Saturday's shakeout to rehearse the breakfast. And lay out your kit the night before: bib pinned, shoes you've run in, nothing new.
''')

claude("sqlx PoolTimedOut under load in the Rust ingest service", "2025-06-10 14:20", "claude-sonnet-4", r'''
@@ user
Load testing the Rust ingest service at 1,500 requests per second: after about a minute sqlx starts returning PoolTimedOut and latency jumps to 30 seconds. The pool is PgPoolOptions::new().max_connections(10). Postgres itself looks idle. What's going on?
@@ assistant
An idle database together with `PoolTimedOut` almost always means connections are checked out but not *used*: something holds them across a slow `.await`.

The arithmetic: with 10 connections, if each request holds one for 7 ms you can serve about 1,400 requests per second. Hold it for 100 ms and the ceiling drops to 100 per second, and everything else queues in `acquire()`. The 30 seconds is sqlx's default `acquire_timeout`.

Typical causes:

- a transaction (`pool.begin()`) kept open while calling Kafka, an HTTP API or another service;
- `let mut conn = pool.acquire().await?` at the top of a handler, released only when the handler returns;
- streaming rows with `fetch()` while doing slow work for each row.

See what the connections are doing:

```sql
SELECT state, wait_event, now() - xact_start AS xact_age, left(query, 60)
FROM pg_stat_activity
WHERE application_name = 'ingest-api';
```

Lots of `idle in transaction` rows confirm it. Set `application_name` in your connect options so the service is easy to find, and lower `acquire_timeout` to 2–3 seconds so overload fails fast with a 503 instead of piling up.
@@ user
Found it. The handler opens a transaction, inserts the event, then calls the carrier API to fetch shipment details, then inserts the outbox row and commits.
@@ assistant
That's it: every request holds a connection and an open transaction for the whole round trip to the carrier. Keep only database work inside the transaction:

```rust
async fn ingest(
    State(s): State<AppState>,
    Path(carrier): Path<String>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let event: WebhookEvent = serde_json::from_slice(&body)?;
    let details = s.carriers.shipment_details(&carrier, &event.tracking_id).await?;

    let mut tx = s.db.begin().await?;
    sqlx::query!(
        "INSERT INTO event (id, carrier, raw) VALUES ($1, $2, $3)",
        event.id, carrier, &body[..]
    )
    .execute(&mut *tx)
    .await?;
    outbox::push(&mut tx, &event, &details).await?;
    tx.commit().await?;
    Ok(StatusCode::ACCEPTED)
}
```

Better still, take the carrier API out of the request path entirely: store the raw event, return 202, and let a background worker fetch the details. The webhook then depends only on Postgres, and a slow carrier API can no longer take ingestion down with it.
@@ user
We run 6 pods with max_connections(10) and plan to scale to 20 pods. The RDS instance allows 400 connections. Should we put PgBouncer in front?
@@ assistant
Do the sum first: 20 pods × 10 = 200 connections, plus the Python service, the outbox relay, migrations and admin tools. That still fits under 400, and now that a request holds a connection for a few milliseconds, 10 per pod is probably more than you need. Size pools by throughput rather than pod count: connections ≈ requests per second × seconds each request holds one, plus headroom.

PgBouncer pays off once you scale much further or run many short-lived jobs. If you add it, two things matter for sqlx:

- **Prepared statements.** sqlx prepares and caches statements per connection. In transaction pooling a later query can land on a server connection that never saw the statement. PgBouncer 1.21 and later handles protocol-level prepared statements in transaction mode when `max_prepared_statements` is set (for example to 200); with older versions use session pooling.
- **Session state.** A `SET` outside a transaction, session advisory locks and `LISTEN` don't survive transaction pooling. Use `SET LOCAL` inside transactions.

On AWS, RDS Proxy is the managed alternative; read its rules on connection pinning before relying on it.
''')

claude("Outbox relay with FOR UPDATE SKIP LOCKED", "2025-07-02 19:05", "claude-sonnet-4", r'''
@@ user
Next piece of the Rust port: the outbox relay. Several replicas will run it. How do I make sure two relays don't publish the same rows, and what should the loop look like?
@@ assistant
Let Postgres hand out the rows with `FOR UPDATE SKIP LOCKED`: each relay locks a batch, and the others skip locked rows instead of waiting for them.

```sql
CREATE TABLE outbox (
    id         BIGSERIAL PRIMARY KEY,
    topic      TEXT NOT NULL,
    key        TEXT NOT NULL,
    payload    BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    sent_at    TIMESTAMPTZ
);
CREATE INDEX outbox_unsent_idx ON outbox (id) WHERE sent_at IS NULL;
```

One transaction per batch:

1. `SELECT id, topic, key, payload FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT 500 FOR UPDATE SKIP LOCKED`
2. Publish every row to Kafka and wait for all the acknowledgements.
3. `UPDATE outbox SET sent_at = now() WHERE id = ANY($1)`, then commit.

Unlike the request path, this transaction does wait on Kafka, so keep batches modest and the producer timeout short. If a relay dies between steps 2 and 3, its transaction rolls back and another replica publishes the batch again: delivery is **at least once**, so consumers must deduplicate, for example on an event id in a message header.

When a batch comes back empty, sleep 100–200 ms. Delete or partition sent rows regularly; an outbox that only grows makes every scan slower.
@@ user
Doesn't SKIP LOCKED break ordering? Events for the same shipment must arrive in order.
@@ assistant
It can. Relay A locks rows 1–500, relay B locks 501–1000, and B may publish first. If shipment 42 has events in both batches, they reach Kafka out of order.

Options, simplest first:

1. **One active relay.** Elect a leader with a session advisory lock, `SELECT pg_try_advisory_lock(…)`, held on a dedicated connection (the lock belongs to that connection). The other replicas retry every few seconds. One relay publishing 500-row batches handles thousands of events per second, which is likely enough for you.
2. **Partition the outbox.** Store `partition = hash(shipment_id) % N` and let each relay own a set of partitions, ordering by id within each.
3. **Make ordering a consumer concern.** Put a per-shipment sequence number, or the carrier's event time, in each message and let consumers ignore anything older than what they've applied.

Kafka keeps order only within a partition, so use the shipment id as the message key. Set `enable.idempotence=true` on the producer; it stops internal retries from duplicating or reordering messages within a partition.

I'd start with option 1 and keep option 3 anyway, since carriers themselves send events out of order.
@@ user
How do I wait for the acknowledgements efficiently with rdkafka?
@@ assistant
With a `FutureProducer`, each `send` returns a future that resolves when the broker acknowledges the message. Start them all, then await them together:

```rust
use futures::future::try_join_all;
use rdkafka::producer::{FutureProducer, FutureRecord};
use std::time::Duration;

async fn publish(producer: &FutureProducer, rows: &[OutboxRow]) -> anyhow::Result<()> {
    let sends = rows.iter().map(|row| {
        let record = FutureRecord::to(&row.topic).key(&row.key).payload(&row.payload);
        producer.send(record, Duration::from_secs(5))
    });
    try_join_all(sends)
        .await
        .map_err(|(err, _msg)| anyhow::anyhow!("kafka delivery failed: {err}"))?;
    Ok(())
}
```

librdkafka batches the messages itself (see `linger.ms`), so this costs a few round trips, not 500.

The `Duration` passed to `send` is only how long to wait when librdkafka's local queue is full. The delivery deadline is the producer setting `message.timeout.ms`; lower it from the default of five minutes to something like 30 seconds so a stuck batch fails and is retried instead of holding its transaction open.

If any message fails, return the error and let the transaction roll back: the whole batch goes out again, which is the at-least-once trade-off your consumers already handle.
''')

gemini("Tomato leaves yellow with target spots", "2025-07-08 07:45", "gemini-2.5-flash", r'''
@@ user
My tomato plants in the raised bed have yellow lower leaves with brown spots that have rings in them, like a target. It's moving up the plant. What is it and can I save them?
@@ assistant
Brown spots with concentric rings, often with a yellow halo, on the oldest leaves first: that's the classic picture of **early blight**, a fungal disease (*Alternaria*). It's very common in warm, humid summers, and the spores splash up from the soil onto the lowest leaves.

You can usually keep the plants productive:

1. **Remove affected leaves** now. Put them in the trash, not the compost, and wipe your pruners between plants.
2. **Clear the bottom 30 cm (12 in)** of the stems so no leaves touch the soil or get splashed.
3. **Mulch** the soil with straw so rain and watering don't splash spores upward.
4. **Water at the base in the morning** and keep the leaves dry; drip lines are ideal.
5. **Improve airflow**: prune crowded suckers and keep the cages or stakes tidy.

Protective fungicides labelled for tomatoes, such as copper or chlorothalonil products, can slow the spread on healthy leaves; they don't cure leaves that are already infected, and you must follow the label's waiting times before harvest.

If the spots are small, without rings, and have tiny black dots in pale centres, it's more likely *Septoria* leaf spot; the care is largely the same.
@@ user
Are the tomatoes safe to eat? And will it come back next year?
@@ assistant
**Eating:** yes. Early blight doesn't make fruit unsafe. Sometimes it causes dark, leathery, sunken spots near the stem end; cut those parts off or compost those fruits, and the rest is fine.

**Next year:** it can come back, because the fungus survives the winter on plant debris and in the soil. To lower the odds:

- **Clean up in autumn.** Remove all tomato plants, fallen leaves and fruit; don't compost them unless your pile gets really hot.
- **Rotate.** Your plan already moves the tomatoes to bed 3 next year. Keep tomatoes, potatoes, peppers and eggplants out of this bed for two or three years if you can, since they share diseases.
- **Choose tolerant varieties.** Look for early blight tolerance in the seed description; 'Mountain Merit', 'Defiant PhR' and 'Iron Lady' are often recommended.
- **Mulch from the start** and remove the lowest leaves as the plants grow.
- **Space the plants** for air circulation.

In a humid climate you may still see some blight each summer, but these steps usually keep it in the lower leaves until late in the season.
@@ user
Should I spray baking soda? I saw that recommended online.
@@ assistant
I wouldn't rely on it. Homemade baking soda (sodium bicarbonate) sprays have mixed results in trials and work best against powdery mildew, not early blight. They also have downsides:

- They can **burn leaves**, especially in hot sun or at strong concentrations.
- In a raised bed, repeated spraying adds **sodium** to a small volume of soil.
- Recipes online vary widely, so it's hard to know what dose you're applying.

If you want a bicarbonate product, **potassium bicarbonate** fungicides are sold ready to use with label directions and have more evidence behind them, though they still only protect new growth.

What works best against early blight is what you're already doing: removing infected leaves, mulching, watering at the soil, and good airflow, with a labelled protective fungicide if the weather stays humid. Whatever you spray, test it on a few leaves first and apply in the evening or on an overcast day.
''')

claude("Graceful shutdown for axum on Kubernetes", "2025-08-20 10:15", "claude-opus-4-1", r'''
@@ user
We hit the same rollout 502s in the Rust ingest service that we fixed for the Django app. How do I do a graceful shutdown in axum, and what about the outbox relay task that runs in the same process?
@@ assistant
axum supports it directly: `with_graceful_shutdown` stops accepting connections when the given future completes, then waits for in-flight requests. Combine it with the same idea as before: on SIGTERM, fail readiness first and keep serving for a few seconds.

```rust
use tokio::signal::unix::{signal, SignalKind};
use tokio_util::sync::CancellationToken;

async fn shutdown_signal(ready: Arc<AtomicBool>, token: CancellationToken) {
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    term.recv().await;
    ready.store(false, Ordering::SeqCst); // /healthz/ready now answers 503
    tokio::time::sleep(Duration::from_secs(10)).await; // let endpoints update
    token.cancel(); // tell background tasks to stop
}

let token = CancellationToken::new();
let relay = tokio::spawn(outbox::run(state.clone(), token.child_token()));

axum::serve(listener, app)
    .with_graceful_shutdown(shutdown_signal(ready.clone(), token.clone()))
    .await?;
relay.await??;
```

Because the process does the waiting itself, you don't need a `preStop` hook, which is convenient with your distroless image. Set `terminationGracePeriodSeconds` above 10 seconds plus your longest request plus the relay's drain time.
@@ user
What should the relay do with the cancellation token?
@@ assistant
Check it between batches, never in the middle of one, so every batch either commits or rolls back cleanly:

```rust
pub async fn run(state: AppState, token: CancellationToken) -> anyhow::Result<()> {
    while !token.is_cancelled() {
        match publish_batch(&state).await {
            Ok(0) => {
                tokio::select! {
                    _ = token.cancelled() => {}
                    _ = tokio::time::sleep(Duration::from_millis(200)) => {}
                }
            }
            Ok(_) => {}
            Err(err) => {
                tracing::warn!(error = %err, "outbox batch failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
    tracing::info!("outbox relay stopped");
    Ok(())
}
```

Only the idle sleep races against the token. If you put `publish_batch` itself inside the `select!`, cancellation would drop the future halfway through: the transaction rolls back, so nothing is lost, but the messages already sent to Kafka go out a second time. Finishing the batch avoids those duplicates, and a batch takes well under a second.

Note that errors are logged and retried rather than returned, so one failed batch doesn't end the relay while the web server keeps running.
@@ user
And if a request is still running when the grace period ends?
@@ assistant
Then Kubernetes sends SIGKILL and whatever was in flight is cut off: the client sees a connection reset, and Postgres rolls back any open transaction when the connection drops. For webhooks that's survivable, since carriers retry and your insert is idempotent on the event id, but it should be rare and visible.

Two ways to make it deterministic:

- **A request timeout** on the router with tower-http's `TimeoutLayer` (for example 10 seconds), so no request can outlive the drain window.
- **A drain deadline** in the process, so the pod exits with a log line instead of being killed silently:

```rust
tokio::spawn({
    let token = token.clone();
    async move {
        token.cancelled().await;
        tokio::time::sleep(Duration::from_secs(25)).await;
        tracing::warn!("drain deadline reached; exiting with requests in flight");
        std::process::exit(1);
    }
});
```

With a 10-second readiness delay and a 25-second drain deadline, set `terminationGracePeriodSeconds: 45`, so the process always finishes before the kubelet resorts to SIGKILL. Count the `drain deadline reached` lines in your logs after each rollout; they should be zero.
''')

claude("System design interview: carrier event ingestion", "2025-09-18 21:00", "claude-opus-4-1", r'''
@@ user
I have the system design round at Northwind Freight next week, for the senior backend role. The prompt will probably be something like "design a system that ingests tracking events from hundreds of carriers". How should I use the 45 minutes?
@@ assistant
A structure that works well for 45 minutes:

1. **Requirements (5–7 min).** Ask rather than assume: number of carriers, events per second on average and at peak, push (webhooks) versus pull (polling carrier APIs), how fresh the data must be downstream, ordering per shipment, retention, and who consumes the events.
2. **Estimates (2–3 min).** For example, 1,500 events per second on average at 2 KB each is 3 MB/s, roughly 260 GB of raw data a day before compression. Numbers like that justify a durable log and cheap raw storage.
3. **High-level design (10 min).** Ingestion endpoints per carrier format, a normalizer, a durable log (Kafka), consumers that update the shipment state store, object storage for raw payloads, and a fleet of pollers for carriers without webhooks.
4. **Deep dives (15–20 min).** Pick two where you have real experience: idempotency and deduplication, the outbox between Postgres and Kafka, out-of-order events, backpressure and retries, and isolating carriers so one noisy carrier can't starve the rest.
5. **Operations (5 min).** Lag per carrier, replay from raw storage, schema changes, deploys without dropped requests.

Steer the deep dives towards your migration work; that's where a senior candidate stands out.
@@ user
They'll probably push on exactly-once delivery. What's a good answer?
@@ assistant
Say early that exactly-once *delivery* across systems you don't control isn't achievable, and that what you build is **at-least-once delivery with idempotent processing**, which gives exactly-once *effects*. Then walk through the layers:

- **From carriers:** they retry, so duplicates are normal. Use the carrier's event id as an idempotency key, or a hash of carrier, tracking number, event type and event time when there is none. A unique constraint plus `INSERT ... ON CONFLICT DO NOTHING` makes ingestion idempotent.
- **Postgres to Kafka:** the transactional outbox, at least once.
- **Within Kafka:** idempotent producers prevent duplicates from producer retries, and Kafka transactions give exactly-once for read-process-write pipelines *inside* Kafka (Kafka Streams' `exactly_once_v2`), but not for side effects outside it.
- **Consumers:** store the last applied event id or a per-shipment version in the same transaction as the state change, and skip anything already applied.

A good interviewer then asks about cost: the deduplication keys grow without bound. Keep them for a fixed window longer than any carrier's retry period, for example 7 days, in a table partitioned by day so old keys are dropped cheaply.
@@ user
Any tips for the behavioural round? They mentioned "a time you disagreed with your team".
@@ assistant
Use STAR (situation, task, action, result), but spend most of the time on the action and what you learned. Good answers to this question show that you disagreed about substance, listened, used evidence, and committed to the outcome even if it wasn't your idea.

You have a natural story: convincing the team that a tokio rewrite wouldn't be harder to debug than the asyncio code.

- **Situation:** the Rust rewrite was approved, but several engineers worried about debugging and the learning curve.
- **Action:** instead of arguing, you proposed a one-week spike on one carrier with tracing, tokio-console and a load test, and agreed the success criteria with the sceptics before starting.
- **Result:** concrete numbers (latency, CPU, memory), and what changed in the plan because of their concerns, such as the per-carrier rollout and the rollback path.
- **Reflection:** what you would do differently next time.

Prepare two or three more: an incident you led (the rolling-deploy 502s), a time you pushed back on scope, and a mistake you made and fixed. Keep each to about two minutes, and never criticise former colleagues.
''')

claude("Ranking SQLite FTS5 results", "2025-10-28 20:45", "claude-sonnet-4-5", r'''
@@ user
Follow-up on my notes search tool: SQLite FTS5, an external content table with title and body columns, ordered by rank. A note titled "Kubernetes deploys" ranks below notes that just mention kubernetes a lot in the body. How do I give the title more weight?
@@ assistant
Give `bm25()` column weights: it takes one weight per column, in declaration order, and every column defaults to 1.0.

```sql
SELECT note.path, bm25(note_fts, 10.0, 1.0) AS score
FROM note_fts
JOIN note ON note.id = note_fts.rowid
WHERE note_fts MATCH :query
ORDER BY score
LIMIT 20;
```

Mind the sign: FTS5's `bm25()` returns **more negative numbers for better matches**, so sort ascending.

To avoid repeating the weights in every query, make them the table's default ranking once. The setting is stored in the database:

```sql
INSERT INTO note_fts(note_fts, rank) VALUES ('rank', 'bm25(10.0, 1.0)');
```

After that, `ORDER BY rank` applies the weights everywhere.

A title weight of 5–10 is a common starting point. Write down five or six searches you actually run, with the note you expect first, and check them whenever you change a weight; ranking tweaks are easy to overfit to the last query you tried. If you later index tags, give them their own column and weight rather than appending them to the body.
@@ user
Can I boost recent notes too? A note from last week should beat an equally good one from 2019.
@@ assistant
Yes, combine the text score with a recency factor. Because better bm25 scores are more negative, multiply by a factor between 0 and 1 that shrinks with age, which moves old notes towards zero:

```sql
SELECT note.path,
       bm25(note_fts, 10.0, 1.0)
         / (1.0 + (:now - note.mtime) / (2 * 365 * 86400.0)) AS score
FROM note_fts
JOIN note ON note.id = note_fts.rowid
WHERE note_fts MATCH :query
ORDER BY score
LIMIT 20;
```

With this factor a two-year-old note keeps half its score and a six-year-old one a quarter. Pass `now` from Python (`time.time()`): it keeps the query testable, and `unixepoch()` needs SQLite 3.38, which some older distributions don't have.

The time constant is the knob. A mild boost usually works better than a strong one; otherwise this week's half-relevant note beats the perfect old one. Check it against your list of test searches.

Because the score is now an expression, SQLite computes it for every matching row and sorts them. With 4,000 notes that's instant.
@@ user
Odd thing: searching "deploy" doesn't find my note that says "deployment", and deploy* doesn't either. I'm using the porter tokenizer, so I thought that would match.
@@ assistant
You've hit a quirk of the Porter stemmer: it doesn't map those two words to the same stem. It turns a final "y" after a consonant into "i", so **"deploy" becomes "deploi"**, while **"deployment" loses its "-ment" and becomes "deploy"**. Different tokens, no match.

The prefix query fails for the same reason: FTS5 passes the prefix through the tokenizer too, so `deploy*` is really `deploi*`, and the stored token "deploy" doesn't start with that.

Options:

1. **Drop porter** and use prefix matching instead: `tokenize='unicode61 remove_diacritics 2'`, and let your query builder add `*` to each word (`"deploy"*`). That matches deploy, deploys, deployed and deployment, at the cost of some noise ("deployable", "deploy-bot").
2. **Keep porter and add a second FTS table** with plain `unicode61` over the same content, then query both and merge. More moving parts.
3. **Search both forms**: expand known pairs (`deploy OR deployment`) yourself, which doesn't scale.

I'd pick the first. Changing the tokenizer means dropping and recreating `note_fts`, then running `INSERT INTO note_fts(note_fts) VALUES ('rebuild')`.
''')

gemini("Kyoto on a rainy day", "2025-10-30 22:15", "gemini-2.5-pro", r'''
@@ user
We're in Kyoto in two weeks, staying near Gion, and the long-range forecast shows rain on one of our days. What are good indoor or rain-friendly things to do?
@@ assistant
Kyoto is surprisingly good in the rain: gardens look their best, and the crowds thin out.

**Indoors**

- **Sanjūsangen-dō:** a long wooden hall with 1,001 statues of Kannon, a short bus or taxi ride south of Gion. The **Kyoto National Museum** is right across the street.
- **Nishiki Market** and the neighbouring **Teramachi** and **Shinkyogoku** shopping streets are covered arcades, so you can spend hours there dry.
- **Kyoto International Manga Museum**, in a former elementary school.
- **Kyoto Railway Museum** near Umekoji, easily half a day if you like trains.
- A **tea ceremony** or a **wagashi** (sweets) making class; many take bookings in English.

**Rain-friendly outdoors**

- Temple halls and verandas: you can sit and look at the garden under the roof.
- **Tōfuku-ji**: the Tsūtenkyō bridge is a covered wooden walkway over a valley of maples, perfect for mid-November.
- Moss gardens, which are at their greenest when wet.

**Practical:** convenience stores sell umbrellas for a few hundred yen; temples and shops have umbrella stands or plastic sleeves at the entrance. You take your shoes off in many temples, so wear waterproof shoes that slip on and off easily.
@@ user
We wanted to do Fushimi Inari that day. Is it miserable in the rain?
@@ assistant
Not at all; many people prefer it. The crowds shrink, and the torii gates look wonderful in mist. Just be realistic about the hike:

- The **torii corridors don't keep you dry**; the gates are spaced apart.
- The **stone steps get slippery**, so shoes with good grip matter more than an umbrella.
- Go up to the **Yotsutsuji intersection**, about 30–45 minutes from the main gate, where there's a view over the city. The full loop to the summit takes 2–3 hours and is less rewarding in low cloud.

**Getting there from Gion:** take the **Keihan line** from Gion-Shijō station to Fushimi-Inari station, about 10 minutes, then walk 5 minutes to the gate. The JR Nara Line's Inari Station is even closer to the entrance, but from Gion the Keihan line is the direct option.

Skip the mountain if there's a heavy-rain warning; typhoons are rare in November, but the paths can turn into streams. A good rainy-day plan is Fushimi Inari early, then Tōfuku-ji one stop away, then lunch and the afternoon under cover in Nishiki Market.
@@ user
What food should we try in Kyoto specifically? I'm allergic to shellfish.
@@ assistant
Kyoto has its own cuisine, lighter and more vegetable-based than Tokyo's. Dishes to look for:

- **Yudōfu:** simmered tofu, a speciality around Nanzen-ji, lovely on a cold November day.
- **Yuba:** delicate tofu skin, served fresh with soy sauce or in soups.
- **Obanzai:** Kyoto home-style small dishes of seasonal vegetables, often served as a lunch set.
- **Kaiseki:** the multi-course seasonal meal. An expensive dinner, but many restaurants offer a cheaper lunch version.
- **Saba-zushi:** pressed mackerel sushi, a traditional Kyoto dish.
- **Matcha sweets** and **wagashi**, especially near Uji and in Gion's tea houses.

**With a shellfish allergy:**

- When you book a kaiseki meal, **state the allergy in the booking**. Chefs plan each course in advance and can usually adapt, but they need notice.
- Show your written allergy card when ordering elsewhere; say *kōkakurui arerugī ga arimasu*.
- Watch out for **dashi** (normally kelp and bonito, so usually fine, but ask), shared tempura oil, and shrimp-flavoured rice crackers.

Most obanzai and yudōfu places are naturally low-risk, but ask each time.
''')

claude("database is locked in my notes indexer", "2025-11-05 08:30", "claude-sonnet-4-5", r'''
@@ user
My notes tool has an indexer that a file watcher starts on every change, and a search command I run in another terminal. Sometimes the indexer dies with sqlite3.OperationalError: database is locked. I set PRAGMA journal_mode=WAL and timeout=10. The odd part: it fails instantly, not after 10 seconds. The indexer does BEGIN, selects the existing mtimes, then inserts and updates. How can this happen in WAL mode?
@@ assistant
The instant failure is the clue. In WAL mode readers never block the writer, so your search command isn't the problem. What you're seeing is a **stale read snapshot**:

1. Indexer run A executes `BEGIN` (deferred) and `SELECT`s the mtimes. It now reads from a snapshot of the database.
2. The watcher fires again and starts run B, which writes and commits.
3. Run A tries its first `INSERT`. Its snapshot is older than B's commit, so it can't become the writer without ignoring B's changes. SQLite returns `SQLITE_BUSY_SNAPSHOT` **immediately**, because waiting can't fix it; the busy timeout isn't used. Python reports it as "database is locked".

The fix is to take the write lock *before* reading:

```python
conn = sqlite3.connect(path, timeout=10, isolation_level=None)  # we manage transactions
conn.execute("PRAGMA journal_mode=WAL")


def index(conn: sqlite3.Connection, files: list[Path]) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        known = dict(conn.execute("SELECT path, mtime FROM note"))
        apply_changes(conn, files, known)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
```

With `BEGIN IMMEDIATE`, run B simply waits (using the 10-second timeout) until run A commits, and then reads fresh data.
@@ user
That was it: the watcher fires three or four events per save. Should I also stop overlapping runs entirely? And should the search command open the database read-only?
@@ assistant
Yes to both, for different reasons.

**Stop overlapping runs.** `BEGIN IMMEDIATE` makes them safe, but running the indexer four times per save is wasted work. Two cheap measures:

- **Debounce** the watcher: collect events for about half a second and start one run for the batch.
- **Single instance:** take an exclusive lock on a lock file and skip the run if it's held, since the running indexer will see the change anyway if it rescans at the end:

```python
import fcntl

with open(lock_path, "w") as lock:
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return  # another indexer is running
    run_index()
```

**Read-only search.** The simplest robust option is `PRAGMA query_only = ON` right after connecting: any write from that connection fails, which protects you from an accidental write path. Opening with `file:notes.db?mode=ro` also works, but read-only connections to WAL databases have extra conditions around the `-shm` file, so `query_only` is less surprising.

Also keep the search command's read transactions short. A search that leaves a cursor open holds its snapshot, and that is the next problem you'd meet.
@@ user
Funny you say that. I left the TUI version of the search open over the weekend and the -wal file grew to 300 MB.
@@ assistant
That's **checkpoint starvation**. In WAL mode changes are appended to the `-wal` file, and a checkpoint copies them back into the main database. SQLite runs one automatically when the WAL passes 1,000 pages (`wal_autocheckpoint`, about 4 MB with 4 KB pages), but a checkpoint can't copy or reset past the oldest snapshot still in use. A TUI that keeps a read transaction open pins that snapshot, so every indexer run since then has made the file longer.

Fixes:

- **In the TUI, don't hold a transaction between searches.** Fetch the results with `fetchall()` (or close the cursor) and let the transaction end. With `isolation_level=None`, plain `SELECT`s run in autocommit mode and release their snapshot as soon as the statement finishes.
- **Shrink the file** once nothing holds a snapshot: `PRAGMA wal_checkpoint(TRUNCATE);`.
- **Cap its size on disk** with `PRAGMA journal_size_limit = 67108864;` (64 MB), which truncates the WAL after successful checkpoints.

To confirm, `PRAGMA wal_checkpoint(PASSIVE)` returns three numbers: a busy flag, the WAL size in pages, and how many of those pages were checkpointed. If the last is stuck well below the second while the TUI is open, a reader is pinning the WAL.
''')

gemini("Lisbon: what to eat", "2025-11-20 12:30", "gemini-2.5-pro", r'''
@@ user
We're going to Lisbon at the end of April, staying in Chiado. What should we eat there? I'm allergic to shellfish, which I gather is a big deal in Portuguese food.
@@ assistant
It is a seafood city, but there's plenty to eat safely.

**Classics to try**

- **Pastel de nata:** the custard tart. Try one warm, with cinnamon, in Belém and at a bakery in town, and compare.
- **Bifana:** a thin pork steak marinated in garlic and wine, in a bread roll. Cheap, fast, excellent.
- **Bacalhau:** salt cod, in countless forms. *Bacalhau à Brás* (shredded with eggs, onion and straw potatoes) is a good start, and *pastéis de bacalhau* are cod fritters.
- **Polvo à lagareiro:** roasted octopus with olive oil and potatoes.
- **Caldo verde:** kale and potato soup with a slice of chouriço.
- **Ginjinha:** a sour-cherry liqueur served in tiny bars near Rossio.

**With a shellfish allergy**

Octopus and squid are molluscs; whether you can eat them depends on your allergy, so check with your doctor. Avoid *marisqueiras* (seafood restaurants) for full meals, and skip the clams (*amêijoas à Bulhão Pato*), *arroz de marisco* and anything *com camarão*. Say: ***Tenho alergia a marisco*** ("I'm allergic to shellfish"); Portuguese *marisco* covers crustaceans and shellfish. A written card in Portuguese helps in busy places.
@@ user
Any etiquette things to know? Tipping, meal times, that kind of thing.
@@ assistant
A few things that surprise first-time visitors:

- **The couvert.** Bread, olives, butter or cheese often arrive on the table before you order. They aren't free: you pay for what you eat. If you don't want them, just say *não, obrigado* (or *obrigada* if you're a woman) and they'll be taken away.
- **Meal times.** Lunch is from about 12:30 to 14:30, and dinner from 19:30, with locals often eating at 20:30 or later. Many kitchens close in the late afternoon.
- **Tipping.** Not obligatory. Rounding up or leaving 5–10% for good table service is appreciated; at a counter, leaving the coins is enough.
- **Coffee.** *Um café* is an espresso, drunk standing at the counter; *uma bica* means the same in Lisbon. A *galão* is a milky coffee in a glass.
- **Asking for the bill.** Waiters won't bring it until you ask: *a conta, por favor*.
- **Water.** Tap water is safe; restaurants often bring bottled water and charge for it, so ask for tap water if you prefer.

One more: reserve dinner for Friday and Saturday nights, especially on the April 25 holiday weekend.
@@ user
Is the Time Out Market worth it, or is it just for tourists?
@@ assistant
Both, honestly. The **Time Out Market** is in the Mercado da Ribeira at Cais do Sodré, a short walk downhill from Chiado. It gathers stalls from well-known Lisbon restaurants and chefs under one roof, with long shared tables in the middle.

**Worth it if** you want to try a lot in one place, you're in a group with different tastes, or you arrive at an odd hour. It's also handy for you: each stall lists its dishes, so it's easy to see what contains shellfish and to ask before ordering.

**Less good:** it's loud, it's busy at lunch and dinner, finding seats can be a scramble, and prices are higher than in a neighbourhood *tasca*.

Tips:

- Go at 11:30–12:00 or after 15:00 to find a seat easily.
- Walk through the traditional market hall next door in the morning, where the fresh produce stalls are.
- For one dinner, skip the market and eat at a small family-run *tasca* in Alfama, Graça or Campo de Ourique; a daily lunch menu there (*prato do dia*) is some of the best value in the city.
''')

claude("Flaky pytest-xdist tests sharing a SQLite file", "2025-12-10 17:55", "claude-opus-4-5", r'''
@@ user
I added pytest-xdist to my notes tool, and now tests fail randomly with -n 4, usually with "database is locked" or a test finding notes it didn't create. Serially everything passes. This is the fixture:

```python
@pytest.fixture
def db():
    conn = notes.connect("/tmp/notes-test.db")
    notes.init_schema(conn)
    yield conn
    conn.close()
    os.remove("/tmp/notes-test.db")
```
@@ assistant
The fixture is the culprit: all four workers use the same file. One worker's test fills or deletes the database while another worker is in the middle of its own test, so you see lock errors and rows from other tests.

Use `tmp_path`, which pytest creates fresh for every test (and therefore per worker), and let pytest clean it up:

```python
@pytest.fixture
def db(tmp_path):
    conn = notes.connect(tmp_path / "notes.db")
    notes.init_schema(conn)
    yield conn
    conn.close()
```

pytest keeps the temporary directories of the last three runs, which is handy when you want to open a failing test's database afterwards.

Then look for other shared state that parallel runs expose:

- **Hard-coded paths** elsewhere, such as a default config or cache directory under your home folder.
- **Module-level globals**, such as a cached connection, that leak from one test into the next within a worker.
- **Order dependencies**, tests that only pass after another test has run. `pytest-randomly` shuffles the order on every run and finds these quickly, even without xdist.
@@ user
Some tests need a database with 2,000 sample notes, and building it takes 3 seconds. Can I build it once and share it?
@@ assistant
Build it once per worker in a session-scoped fixture, and give every test its own copy, which takes milliseconds:

```python
import shutil

import pytest


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "notes.db"
    conn = notes.connect(path)
    notes.init_schema(conn)
    notes.index_folder(conn, SAMPLE_NOTES)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path


@pytest.fixture
def seeded_db(seeded_template, tmp_path):
    copy = tmp_path / "notes.db"
    shutil.copyfile(seeded_template, copy)
    conn = notes.connect(copy)
    yield conn
    conn.close()
```

Closing the last connection normally checkpoints and removes the `-wal` file anyway; the explicit checkpoint makes sure the main file is complete before it's copied, even if something else still has it open.

With `-n 4` the template is built four times in parallel, once per worker. To build it exactly once for all workers, the pytest-xdist documentation shows a pattern using `tmp_path_factory.getbasetemp().parent` and a file lock from the `filelock` package; for 3 seconds it's rarely worth the extra complexity.
@@ user
How do I stop someone from reintroducing a shared path later?
@@ assistant
Make isolation the default, so a test has to go out of its way to touch anything shared. An autouse fixture in `conftest.py` that points every location your tool reads at the test's temporary directory:

```python
import pytest


@pytest.fixture(autouse=True)
def _isolate(tmp_path, monkeypatch):
    monkeypatch.setenv("NOTES_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
```

If the code resolves `NOTES_HOME` when a module is imported rather than on each call, move that lookup into a function; otherwise the environment variable is read before the fixture runs.

Then add cheap guards:

- Run CI with `pytest -n 4 -p randomly`, so shared state fails in CI rather than on a colleague's laptop.
- A small test that scans `tests/` for literal `/tmp/` paths and fails with a message pointing at `tmp_path`.

`monkeypatch.chdir` also catches code that writes relative paths into the current directory, which is another common way tests collide.
''')

gemini("Sintra day trip and a long run in Lisbon", "2026-01-08 20:00", "gemini-2.5-flash", r'''
@@ user
We're doing a Sintra day trip from Lisbon on Friday April 24. We'd like to see Pena Palace and Quinta da Regaleira, maybe the Moorish Castle. How do we get there, and in what order?
@@ assistant
**Getting there:** trains to Sintra leave from **Rossio station**, a short walk from Chiado, several times an hour, and take about 40 minutes. Pay with "zapping" credit on your navegante card; the 24-hour Carris/Metro ticket doesn't cover CP trains, though there's a version that includes them. Don't drive: parking in Sintra is very limited and the roads up the hill are narrow.

**Order:**

1. **Pena Palace first.** Book a timed ticket online in advance and take the earliest slot; tour groups arrive mid-morning. From the station, take the circuit bus up the hill, or a taxi or tuk-tuk; walking up is a steep 45–60 minutes.
2. **Moorish Castle** is a short walk from Pena, with great views from the walls. If your legs or time run short, this is the one to drop.
3. **Walk down to the historic centre** for lunch. Try *travesseiros* (puff pastry with almond cream) and *queijadas*, the local pastries.
4. **Quinta da Regaleira** in the afternoon: the gardens, grottoes and the famous Initiation Well, a spiral staircase into the ground. Allow about two hours.

Wear good shoes; Sintra is all hills and uneven paths. It's often cooler and mistier than Lisbon, so bring a layer.
@@ user
Is it worth adding Cabo da Roca and Cascais on the way back?
@@ assistant
It's possible, but it makes a very long day. With Pena, the castle and Regaleira you'll already have walked a lot.

**If you want it anyway:** a regional bus runs from Sintra via **Cabo da Roca**, the westernmost point of mainland Europe, to **Cascais**, in about an hour. It isn't frequent, so check the current timetable beforehand and plan around it. At Cabo da Roca there's a lighthouse, cliffs and a lot of wind. From Cascais, trains go back to Cais do Sodré in Lisbon in about 40 minutes, along the coast.

**A better split:**

- Sintra for Pena and Regaleira only, back by train in the late afternoon.
- Or, if you swap the castle for the coast: Pena in the morning, then the bus to Cabo da Roca for late afternoon, and dinner in Cascais.

Cascais also works as a relaxed half day of its own: a seaside town with beaches, a walk along the promenade to Estoril, and a good choice if the weather is sunny on your last day.
@@ user
One more thing: I'm training for a half marathon in May and have a 20 km long run scheduled that weekend. Where can I run in Lisbon without hills?
@@ assistant
Lisbon is hilly, but the **riverside** is flat and made for this. A good route for 20 km:

- Start at **Cais do Sodré** (downhill from Chiado, so the hill comes at the very end, as a cool-down walk).
- Run west along the Tagus on the waterfront paths and cycle lane, past the 25 de Abril Bridge, to **Belém** and the tower. That's about 7 km one way.
- Continue a little further towards **Algés**, then turn around and come back: roughly 20 km in total, almost all flat.

Tips:

- **Go early.** Before 8:30 the path is quiet; later in the morning it fills with walkers, cyclists and scooters, especially around Belém on a weekend.
- **Water:** there are cafés along the way, and a few drinking fountains, but carry a small bottle or some coins.
- **On Saturday April 25,** the city centre is busy with the Freedom Day parade, so run on Sunday morning or early on Saturday.

If you'd like some trail running instead, **Monsanto Forest Park** on the western side of the city has shaded trails, but it's hilly, so save it for an easy run.
''')

claude("Weekday sourdough schedule", "2026-01-20 19:30", "claude-opus-4-5", r'''
@@ user
I'd like to bake sourdough on weekdays. I leave for work at 8:00 and get home at 18:00. My starter lives in the fridge and gets fed 1:5:5 once a week. My kitchen is about 19 °C in winter. Can you give me a schedule that fits around a work day?
@@ assistant
Yes: use a long, cool bulk during the day and the fridge overnight. With a 19 °C kitchen, a small amount of levain and a long bulk fit a work day well.

**Day 1, evening (around 21:30)**
Build the levain: 10 g starter, 50 g flour, 50 g water (1:5:5). At 19 °C it peaks overnight, in 10–12 hours.

**Day 2, morning (7:00)**
Mix the dough with a **low levain percentage, about 10%** of the flour weight (50 g levain for 500 g flour), 70% hydration and 2% salt. Use cool water so the dough starts at about 20 °C. Give it one set of coil folds before you leave, and leave it covered on the counter.

**Day 2, evening (18:00)**
Check the rise: at 19–21 °C you're looking for roughly 75–100% in your aliquot jar. Pre-shape, rest 20 minutes, shape, and put it in the fridge.

**Day 3**
Bake straight from the fridge whenever suits you, morning or evening.

The levain amount is your control knob. If the dough has more than doubled by 18:00, use 7–8% next time; if it has barely risen, use 15%.
@@ user
Won't 11 hours of bulk overferment it?
@@ assistant
Not at this temperature and levain amount. Fermentation speed depends on both: 20% levain at 24 °C might be done in 5–6 hours, while 10% at 19–20 °C takes roughly twice as long. Long cool bulks are common for exactly this reason, and they tend to give more flavour.

Signs you've gone too far, for next time:

- the dough has risen well over double, and the surface has started to sink;
- it smells sharply sour or boozy rather than pleasantly tangy;
- it's very slack and sticky and tears when you shape it;
- the baked loaf spreads, with a pale crust and a dense, gummy crumb.

Your first bake is a calibration run. Write down the dough temperature after mixing, the room temperature, and the rise in the jar at 18:00. Adjust one thing at a time, either the levain percentage or the water temperature, in small steps. Two or three bakes and you'll know your kitchen.

One thing that helps a lot in winter: check the dough at lunchtime if you can, even by asking someone at home for a photo of the jar.
@@ user
Can I bake it on Day 3 after work instead, so it has about 24 hours in the fridge?
@@ assistant
Yes. A 24-hour cold retard works well if the fridge is cold, around 3–4 °C. At that temperature fermentation slows to a crawl, and the longer rest mostly develops flavour: expect a tangier loaf, a slightly thinner, more blistered crust, and an easy, firm dough to score.

A few points:

- **Check your fridge temperature** with a thermometer. At 6–7 °C the dough keeps fermenting noticeably, and 24 hours on top of a full bulk can tip it over. If your fridge is warm, end the bulk a little earlier, at about 60–75% rise.
- **Bake straight from the fridge.** Cold dough is easier to score and holds its shape better.
- **Preheat the Dutch oven** at 250 °C for 45 minutes. Bake 20 minutes with the lid on, then 20–25 minutes at 230 °C without the lid, until deep brown.
- **Cool for at least an hour** before cutting.

If you bake at 19:00, it's cool enough by 20:30, and the loaf is ready for breakfast on Day 4. Up to about 36 hours in a cold fridge is usually fine if the schedule slips.
''')

gemini("Roth or traditional 401(k) contributions", "2026-02-03 21:20", "gemini-2.5-pro", r'''
@@ user
My employer's 401(k) offers both Roth and traditional contributions. Last year I rolled my old 401(k) into it. I'm 34 and in the 24% federal bracket. Which should I choose?
@@ assistant
The core question is whether your tax rate is higher **now** or **in retirement**. This is general information, not personal advice.

- **Traditional:** you deduct the contribution now (saving 24% federal, plus any state tax), and pay ordinary income tax on withdrawals later.
- **Roth:** you pay tax now, and qualified withdrawals (after age 59½ and at least 5 years after your first Roth contribution to the plan) are tax-free, including the growth.

Rules of thumb:

- Expect a **lower** rate in retirement: traditional wins.
- Expect the **same or higher** rate: Roth wins.
- **Unsure:** split your contributions; tax diversification gives you flexibility later.

Things specific to you:

- Your **rollover money is pre-tax**, so you already have a sizeable traditional balance. Roth contributions add diversification.
- You do **backdoor Roth IRAs**, so you're building Roth money there too.
- The **contribution limit is shared**: Roth and traditional elective deferrals count towards the same annual limit.
- Roth 401(k)s no longer have required minimum distributions during your lifetime (since 2024).

At 24% with decades of growth ahead, many people in your position choose Roth or a 50/50 split. A fee-only planner can run the numbers with your actual situation.
@@ user
Does a Roth 401(k) interfere with my backdoor Roth IRA, like the IRA rollover would have?
@@ assistant
No. The **pro-rata rule** that you avoided by rolling into your 401(k) only looks at the pre-tax balances of your **traditional, SEP and SIMPLE IRAs** on December 31 of the year you convert. Money in any 401(k), traditional or Roth, doesn't count. So you can contribute to a Roth 401(k), keep your rollover money in the plan, and continue doing backdoor Roth IRAs as before.

A few related points:

- **Separate limits.** Roth 401(k) contributions don't reduce how much you can put into an IRA; the 401(k) and IRA limits are independent.
- **Income limits** still apply to direct Roth IRA contributions, which is why the backdoor exists, but Roth 401(k) contributions have no income limit.
- **Keep it that way.** If you ever change jobs again, roll the 401(k) into the new employer's plan rather than into an IRA, or your backdoor conversions become partly taxable.
- **Form 8606** is still needed each year for the nondeductible IRA contribution and the conversion.
@@ user
If I switch to Roth, how much smaller does my paycheck get, roughly, per $1,000 contributed?
@@ assistant
Roughly **$240 per $1,000** at a 24% federal rate, plus your state income tax rate if you have one. With a 5% state tax that's about $290.

Why: a traditional contribution is taken out before income tax, so $1,000 into the plan reduces your take-home pay by only about $760. A Roth contribution comes out after tax, so $1,000 into the plan reduces it by the full $1,000.

Payroll taxes don't change the comparison: Social Security and Medicare apply to both kinds of contribution.

To compare fairly, keep your take-home pay the same in both scenarios:

- **Traditional $1,000** costs you about $760 of take-home pay.
- **Roth $760** costs you the same $760.

Which one ends up larger depends only on the tax rates now and at withdrawal: if they're equal, both give the same result after tax, and the Roth wins if your rate in retirement is higher. Alternatively, contribute the same $1,000 either way and accept the smaller paycheck; then the Roth effectively shelters more money, because the tax has already been paid.
''')


# --------------------------------------------------------------------------
# Memories: what the person told aimem to remember (aimem JSONL, type "memory").

MEMORIES: list[dict] = [
    {"text": "Answers should be concise, with the code first and the explanation after it.",
     "kind": "instruction", "tags": ["style"], "created": "2025-02-12 09:30", "pinned": True},
    {"text": "Prefers pytest over unittest: plain test functions, fixtures, tmp_path and monkeypatch.",
     "kind": "preference", "tags": ["python", "testing"], "created": "2025-02-20 18:05",
     "pinned": False},
    {"text": "Uses PostgreSQL 16 at work, for the Django app and the Rust ingest service; SQLite only for "
             "side projects such as the notes search tool.",
     "kind": "fact", "tags": ["postgres", "work"], "created": "2025-05-02 11:40", "pinned": False},
    {"text": "Works on the Python-to-Rust port (tokio, axum, sqlx) of the carrier webhook ingest service; "
             "it serves part of the carrier traffic and moves over carrier by carrier.",
     "kind": "project", "tags": ["rust", "work"], "created": "2025-06-11 08:15", "pinned": False},
    {"text": "Keeps a whole-wheat sourdough starter in the fridge and feeds it 1:5:5 once a week; the "
             "kitchen is about 19 °C in winter.",
     "kind": "fact", "tags": ["sourdough"], "created": "2025-10-07 07:50", "pinned": False},
    {"text": "Is training for a half marathon in spring 2026 (May), aiming to finish under 2 hours; easy "
             "pace is about 6:50/km.",
     "kind": "fact", "tags": ["running"], "created": "2026-01-09 19:20", "pinned": False},
]


# --------------------------------------------------------------------------
# building


def check_alternation(turns: list[tuple[str, str]], where: str) -> None:
    """The visible transcript alternates user and assistant, starting with the user."""
    visible = [k for k, _ in turns if not k.endswith("-old")]
    if visible != ["user", "assistant"] * (len(visible) // 2) or len(visible) % 2:
        raise SystemExit(f"{where}: visible turns must alternate user/assistant: {visible}")


def _request_id(*parts: str) -> str:
    return _digest("request", *parts).hex()[:16] + "-IAD"


def _node(node_id: str, message: dict | None, parent: str | None) -> dict:
    return {"id": node_id, "message": message, "parent": parent, "children": []}


def _chatgpt_message(mid: str, role: str, text: str, t: float | None, model: str,
                     parent: str, request_id: str) -> dict:
    if role == "user":
        metadata: dict = {"request_id": request_id, "message_source": None, "timestamp_": "absolute",
                          "message_type": None}
    else:
        metadata = {"finish_details": {"type": "stop", "stop_tokens": [200002]}, "is_complete": True,
                    "citations": [], "content_references": [], "message_type": None,
                    "model_slug": model, "default_model_slug": model, "parent_id": parent,
                    "request_id": request_id, "timestamp_": "absolute"}
    return {"id": mid, "author": {"role": role, "name": None, "metadata": {}}, "create_time": t,
            "update_time": None, "content": {"content_type": "text", "parts": [text]},
            "status": "finished_successfully", "end_turn": True if role == "assistant" else None,
            "weight": 1.0, "metadata": metadata, "recipient": "all", "channel": None}


def build_chatgpt(spec: dict) -> dict:
    """One conversation of a ChatGPT export: a tree of nodes under ``client-created-root``.

    The visible turns form the path from the root to ``current_node``. A ``user-old``
    turn becomes a sibling of the next visible user turn (an edited question); an
    ``assistant-old`` turn is the child of the ``user-old`` turn right before it, or
    else a sibling of the next visible answer (a regenerated answer).
    """
    title, model = spec["title"], spec["model"]
    where = f"chatgpt conversation {title!r}"
    turns = parse(spec["body"], where)
    check_alternation(turns, where)
    key = f"chatgpt/{title}"
    times = timeline(key, spec["start"], turns)
    created = round(times[0] - 0.3 - 0.6 * unit(key, "created"), 6)
    updated = round(times[-1] + 0.4 + 0.8 * unit(key, "updated"), 6)
    cid = chatgpt_conversation_id(key, created)

    root, system_id = "client-created-root", uid(key, "system")
    system = {"id": system_id, "author": {"role": "system", "name": None, "metadata": {}},
              "create_time": None, "update_time": None,
              "content": {"content_type": "text", "parts": [""]}, "status": "finished_successfully",
              "end_turn": True, "weight": 0.0,
              "metadata": {"is_visually_hidden_from_conversation": True}, "recipient": "all",
              "channel": None}
    mapping = {root: _node(root, None, None), system_id: _node(system_id, system, root)}
    mapping[root]["children"].append(system_id)

    tip = system_id  # the last visible node
    previous: tuple[str, str] | None = None  # (kind, node id) of the turn before
    requests: dict[str, str] = {}
    for i, ((kind, text), t) in enumerate(zip(turns, times, strict=True)):
        nid = uid(key, "message", str(i))
        role = kind.removesuffix("-old")
        if kind == "assistant-old":
            if previous is None or previous[0] not in ("user", "user-old"):
                raise SystemExit(f"{where}: '@@ assistant-old' must follow a user turn")
            parent = previous[1]
        else:
            parent = tip
        request = _request_id(key, str(i)) if role == "user" else requests[parent]
        requests[nid] = request
        mapping[nid] = _node(nid, _chatgpt_message(nid, role, text, t, model, parent, request), parent)
        mapping[parent]["children"].append(nid)
        if kind in ("user", "assistant"):
            tip = nid
        previous = (kind, nid)

    # The path from current_node back to the root must be exactly the visible turns.
    path, node_id = [], tip
    while node_id != system_id:
        path.append(mapping[node_id]["message"]["content"]["parts"][0])
        node_id = mapping[node_id]["parent"]
    if path[::-1] != [text for kind, text in turns if not kind.endswith("-old")]:
        raise SystemExit(f"{where}: the current_node path is not the visible transcript")

    return {
        "title": title, "create_time": created, "update_time": updated, "mapping": mapping,
        "moderation_results": [], "current_node": tip, "plugin_ids": None,
        "conversation_id": cid, "conversation_template_id": None, "gizmo_id": None,
        "gizmo_type": None, "is_archived": False, "is_starred": None, "safe_urls": [],
        "blocked_urls": [], "default_model_slug": model, "conversation_origin": None,
        "voice": None, "async_status": None, "disabled_tool_ids": [],
        "is_do_not_remember": False, "memory_scope": "global_enabled", "id": cid,
    }


def build_other(spec: dict) -> dict:
    """One Claude or Gemini conversation as an aimem JSONL object (no ids: aimem derives them)."""
    source, title = spec["source"], spec["title"]
    where = f"{source} conversation {title!r}"
    turns = parse(spec["body"], where)
    if any(kind.endswith("-old") for kind, _ in turns):
        raise SystemExit(f"{where}: branches exist only in the ChatGPT export")
    if not 4 <= len(turns) <= 10:
        raise SystemExit(f"{where}: {len(turns)} messages (want 4-10)")
    check_alternation(turns, where)
    key = f"{source}/{title}"
    times = timeline(key, spec["start"], turns)
    if source == "claude":  # Claude.ai uses uuids for conversations and messages
        conversation_sid = uid(key, "conversation")
        message_sids = [uid(key, "message", str(i)) for i in range(len(turns))]
    else:  # Gemini web conversations are 16 hex digits (gemini.google.com/app/<id>)
        conversation_sid = _digest(key, "conversation").hex()[:16]
        message_sids = [f"{conversation_sid}:{i}" for i in range(len(turns))]
    return {
        "type": "conversation", "source": source, "source_id": conversation_sid, "title": title,
        "created_at": iso(times[0]), "updated_at": iso(times[-1]), "model": spec["model"],
        "messages": [{"source_id": sid, "role": kind, "text": text, "created_at": iso(t)}
                     for sid, (kind, text), t in zip(message_sids, turns, times, strict=True)],
    }


def build_memory(spec: dict) -> dict:
    stamp = iso(epoch(spec["created"]))
    return {"type": "memory", "text": spec["text"], "kind": spec["kind"], "tags": spec["tags"],
            "created_at": stamp, "updated_at": stamp, "source": "manual", "pinned": spec["pinned"]}


def readme(counts: dict[str, int]) -> str:
    return f"""# aimem sample data

The invented AI chat history that `aimem demo` (and `make demo`) imports into a
separate demo database (`demo.db` in aimem's data directory), so you can try
search, `list` and `show` without importing anything of your own.

It is one made-up person's conversations from January 2025 to February 2026: a
backend developer (Python, Django, PostgreSQL, a Python-to-Rust port of an
ingest service with tokio, Kubernetes, flaky pytest tests, SQLite FTS5 search
and "database is locked") who also bakes sourdough, runs half marathons,
gardens, plans trips to Kyoto and Lisbon, has 401(k) questions, writes a cover
letter and sets up TLS certificates. The Claude and Gemini conversations follow
up on threads that started in ChatGPT.

| file | format | content |
|---|---|---|
| `chatgpt/conversations.json` | a ChatGPT data export (`conversations.json`) | {counts["chatgpt"]} conversations |
| `others.jsonl` | aimem JSONL (the exchange format) | {counts["claude"]} Claude and {counts["gemini"]} Gemini conversations, {counts["memories"]} memories |

The ChatGPT export has the real shape: a tree of message nodes under
`client-created-root`, a hidden system message, and `current_node` pointing at
the visible leaf. {counts["branched"]} conversations contain abandoned branches (an edited
question, a regenerated answer). They are not on the `current_node` path, so
aimem must not import them.

## Invented, no personal data

Every text was written for aimem. The person, their employer and the companies
they mention are invented; there are no real people, e-mail addresses, phone
numbers or account ids. Host names use `example.com`. The answers aim to be
accurate, but they are sample data, not advice.

## Regenerating

Do not edit these files by hand. They are written by a deterministic script
(standard library only; ids and times are derived from hashes of fixed keys):

```bash
python3 scripts/build_sample.py              # rewrites aimem/data/sample/
python3 scripts/build_sample.py --out DIR    # writes the same files under DIR
```

Running it twice gives byte-identical files, and `tests/test_sample.py` checks
that the files committed here are exactly what the script produces.

## Licence

MIT, the same licence as aimem (see `LICENSE` at the root of the repository).
"""


def render() -> dict[str, bytes]:
    """Every output file, by path relative to the output folder."""
    titles = [c["title"] for c in CHATGPT] + [f"{c['source']}/{c['title']}" for c in OTHERS]
    if len(set(titles)) != len(titles):
        raise SystemExit("conversation titles must be unique (they are the keys of the ids)")
    # A real export lists the most recently updated conversation first.
    export = sorted((build_chatgpt(c) for c in CHATGPT), key=lambda c: -c["update_time"])
    conversations = sorted((build_other(c) for c in OTHERS), key=lambda c: c["created_at"])
    memories = sorted((build_memory(m) for m in MEMORIES), key=lambda m: m["created_at"])
    counts = {"chatgpt": len(export), "memories": len(memories),
              "branched": sum("@@ user-old" in c["body"] or "@@ assistant-old" in c["body"]
                              for c in CHATGPT),
              **{s: sum(c["source"] == s for c in conversations) for s in ("claude", "gemini")}}
    lines = [json.dumps(obj, ensure_ascii=False) for obj in conversations + memories]
    return {
        "chatgpt/conversations.json": (json.dumps(export, ensure_ascii=False, indent=2) + "\n").encode(),
        "others.jsonl": ("\n".join(lines) + "\n").encode(),
        "README.md": readme(counts).encode(),
    }


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description="Build aimem's bundled sample data.")
    ap.add_argument("--out", type=Path, default=OUT, metavar="DIR",
                    help=f"output folder (default: {OUT.relative_to(ROOT)})")
    args = ap.parse_args(argv)
    for rel, data in render().items():
        path = args.out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        print(f"wrote {path} ({len(data):,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
