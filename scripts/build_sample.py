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
  aimem's own JSONL exchange format (docs/interface.md, "aimem JSONL").

Standard library only, and deterministic: ids and timestamps are derived from
SHA-256 hashes of fixed keys, so running it twice gives byte-identical files.

Usage: python3 scripts/build_sample.py
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
UTC = dt.timezone.utc

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
    for kind, text in zip(pieces[1::2], pieces[2::2]):
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
First, the numbers. Sub-2:00 needs an average of **5:41/km**. Riegel's formula (T2 = T1 × (D2/D1)^1.06) turns your 62-minute 10 km into about **2:17** for the half. That was a training run, not a race effort, so you're faster than that, but sub-2 in 12 weeks is ambitious. Train for it, and treat 2:05–2:10 as a solid result.

Four runs a week: easy, workout, easy, long. Add 4–6 × 20 s strides after one easy run.

| Week | Weekly km | Long run | Workout |
|---|---|---|---|
| 1 | 22 | 11 km | 6 × 400 m at 5:15/km |
| 2 | 25 | 12 km | 20 min at 5:55/km |
| 3 | 27 | 13 km | 5 × 800 m at 5:20/km |
| 4 | 22 | 10 km | easy week |
| 5 | 30 | 14 km | 3 × 2 km at 5:45/km |
| 6 | 32 | 15 km | 25 min at 5:40/km |
| 7 | 34 | 16 km | 6 × 1 km at 5:25/km |
| 8 | 28 | 12 km | easy week, 5 km time trial |
| 9 | 36 | 17 km | 2 × 4 km at 5:40/km |
| 10 | 38 | 19 km | 8 km at 5:41/km |
| 11 | 28 | 13 km | 5 × 1 km at 5:35/km |
| 12 | 18 | race | 3 × 1 km at 5:41/km on Tuesday |

Retest with the week-8 time trial: a 5 km under about 27:00 says sub-2 is realistic.
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
2. **Order:** install `pytest-randomly`, which prints the seed it used; rerun a failing order with `pytest -p randomly -p "randomly_seed=1234"` and bisect the tests that ran before it.
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
- **Control dough temperature.** Aim for 25–26 °C right after mixing. A quick way to pick the water temperature: **water = (desired temperature × 3) − (room + flour + levain temperature)**. For 26 °C in a 22 °C kitchen with 22 °C flour and a 24 °C levain: 78 − 68 = 10, so water at about 10 °C above... rather, 78 − 68 is the number you want, so 10 °C *more* than you'd think: use about 30 °C water.
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
