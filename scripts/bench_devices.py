#!/usr/bin/env python3
"""Sync between devices (aimem sync --to FOLDER) through a real file-sync engine.

Two aimem homes (A and B), each with its own copy of the sync folder, kept in step by a
real transport: two Syncthing instances on loopback (``--transport syncthing``, Debian's
``syncthing``; discovery, relays, NAT, usage and crash reporting all off, so nothing
leaves 127.0.0.1), or ``rsync -a --update`` in both directions (``--transport rsync``;
safe because every file has one writer). Measures, on fresh homes in --work DIR:

- convergence for 1,000 memories and for an export (default the S export): from A's
  ``aimem sync`` until B has applied everything (A sync + transport + B sync), and the
  way back (B's seen.json at A), with each part;
- the log A writes: bytes per 1,000 memories and for the export (and gzip -6 of it);
- applying the export's log on a fresh device vs importing the export there directly;
- ``aimem sync`` with nothing new (--runs times; median and min wall, median CPU), in a
  realistic setup: A's home (the export imported, the folder as sync target) and a HOME
  with Claude Code and Codex session files (from ../shared/fixtures/realworld when there).
  Python's bytecode is compiled first (as pip/uv do on install); --no-bytecode measures
  with aimem's modules compiled from source every run instead (PYTHONDONTWRITEBYTECODE=1
  without a __pycache__, as in some sandboxes). --compare-src DIR interleaves the same runs
  with the aimem package in DIR (an older checkout) for a before/after.

Usage: python scripts/bench_devices.py --work /tmp/devsync-bench [--transport rsync]
           [--export FILE] [--runs 20] [--idle-only] [--compare-src DIR] [--no-bytecode]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AIMEM = str(Path(sys.executable).parent / "aimem")
FIXTURES = ROOT.parent / "shared" / "fixtures" / "realworld"


def log_bytes(folder: Path) -> tuple[int, int]:
    raw = b"".join(p.read_bytes() for p in sorted(folder.rglob("log-*.jsonl")))
    return len(raw), len(gzip.compress(raw, 6))


def run(env: dict[str, str], *args: str) -> float:
    t = time.perf_counter()
    subprocess.run([AIMEM, *args], env=env, check=True, capture_output=True, cwd="/")
    return time.perf_counter() - t


def _files(folder: Path) -> dict[str, int]:
    out = {}
    for p in folder.rglob("*"):
        rel = p.relative_to(folder).as_posix()
        if p.is_file() and not rel.startswith(".st") and ".syncthing." not in p.name \
                and not p.name.startswith(".") and "/." not in rel:
            out[rel] = p.stat().st_size
    return out


def _has(dst: Path, src: Path, device: str | None = None) -> bool:
    """Whether dst holds every file of src (of one device's directory) at its full size."""
    want = {k: v for k, v in _files(src).items()
            if device is None or k.startswith(f"aimem-sync/{device}/")}
    have = _files(dst)
    return all(have.get(k) == v for k, v in want.items())


# -- transports ---------------------------------------------------------------------------

class Rsync:
    name = "rsync"

    def __init__(self, a: Path, b: Path):
        self.a, self.b = a, b

    def push(self, src: Path, dst: Path, device: str | None = None) -> float:
        t = time.perf_counter()
        subprocess.run(["rsync", "-a", "--update", f"{src}/", f"{dst}/"], check=True,
                       timeout=600)
        return time.perf_counter() - t

    def close(self) -> None:
        pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Syncthing:
    """Two Syncthing instances on loopback sharing the folder (id "aimem")."""

    name = "syncthing"

    def __init__(self, a: Path, b: Path, work: Path):
        self.dirs = {"a": a, "b": b}
        self.procs: list[subprocess.Popen[bytes]] = []
        self.gui: dict[str, str] = {}
        self.key: dict[str, str] = {}
        ids, ports = {}, {}
        for n in ("a", "b"):
            home = work / f"st-{n}"
            subprocess.run(["syncthing", "generate", f"--home={home}", "--no-default-folder",
                            "--skip-port-probing"], check=True, capture_output=True, timeout=60)
            ids[n] = subprocess.run(["syncthing", "serve", f"--home={home}", "--device-id"],
                                    check=True, capture_output=True, text=True,
                                    timeout=60).stdout.strip()
            ports[n] = (_free_port(), _free_port())
        for n, other in (("a", "b"), ("b", "a")):
            home = work / f"st-{n}"
            cfg = ET.parse(home / "config.xml")
            root = cfg.getroot()
            opts = root.find("options")
            assert opts is not None
            for tag, value in {"listenAddress": f"tcp://127.0.0.1:{ports[n][1]}",
                               "globalAnnounceEnabled": "false",
                               "localAnnounceEnabled": "false", "relaysEnabled": "false",
                               "natEnabled": "false", "startBrowser": "false",
                               "urAccepted": "-1", "autoUpgradeIntervalH": "0",
                               "crashReportingEnabled": "false",
                               "announceLANAddresses": "false", "stunKeepaliveStartS": "0",
                               "stunKeepaliveMinS": "0", "reconnectionIntervalS": "1",
                               "setLowPriority": "false"}.items():
                el = opts.find(tag)
                if el is None:
                    el = ET.SubElement(opts, tag)
                el.text = value
            gui = root.find("gui")
            assert gui is not None
            gui.find("address").text = f"127.0.0.1:{ports[n][0]}"  # type: ignore[union-attr]
            self.gui[n] = f"http://127.0.0.1:{ports[n][0]}"
            self.key[n] = gui.find("apikey").text  # type: ignore[union-attr,assignment]
            dev = ET.Element("device", id=ids[other], name=f"bench-{other}",
                             compression="metadata", introducer="false")
            ET.SubElement(dev, "address").text = f"tcp://127.0.0.1:{ports[other][1]}"
            root.insert(1, dev)
            folder = ET.Element("folder", id="aimem", label="aimem", path=str(self.dirs[n]),
                                type="sendreceive", rescanIntervalS="3600",
                                fsWatcherEnabled="true", fsWatcherDelayS="1")
            ET.SubElement(folder, "device", id=ids[n])
            ET.SubElement(folder, "device", id=ids[other])
            root.insert(0, folder)
            cfg.write(home / "config.xml")
            (self.dirs[n] / ".stfolder").mkdir(parents=True, exist_ok=True)
            env = {**os.environ, "STNOUPGRADE": "1", "STNODEFAULTFOLDER": "1"}
            self.procs.append(subprocess.Popen(
                ["syncthing", "serve", f"--home={home}", "--no-browser", "--no-restart",
                 f"--logfile={home / 'log.txt'}"], env=env, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL))
        self.ids = ids
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                c = self._get("a", "/rest/system/connections")["connections"]
                if c.get(ids["b"], {}).get("connected"):
                    return
            except OSError:
                pass
            time.sleep(0.5)
        self.close()
        raise SystemExit("the two Syncthing instances did not connect within 120 s")

    def _get(self, n: str, path: str, method: str = "GET") -> dict:  # type: ignore[type-arg]
        req = urllib.request.Request(self.gui[n] + path, method=method,
                                     headers={"X-API-Key": self.key[n]})
        with urllib.request.urlopen(req, timeout=10) as r:  # noqa: S310 (loopback only)
            body = r.read()
        return json.loads(body) if body else {}

    def push(self, src: Path, dst: Path, device: str | None = None) -> float:
        """Ask the source side to scan (what its file watcher does a second later), then
        wait until the destination has every file of ``device`` at full size."""
        t = time.perf_counter()
        n = "a" if src == self.dirs["a"] else "b"
        self._get(n, "/rest/db/scan?folder=aimem", method="POST")
        deadline = time.time() + 900
        while not _has(dst, src, device):
            if time.time() > deadline:
                raise SystemExit(f"Syncthing did not deliver {src} to {dst} in 900 s")
            time.sleep(0.05)
        return time.perf_counter() - t

    def close(self) -> None:
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()


# -- the measurements ---------------------------------------------------------------------

def device_id(env: dict[str, str]) -> str:
    out = subprocess.run([AIMEM, "devices", "--json"], env=env, check=True,
                         capture_output=True).stdout
    return json.loads(out)["id"]


def converge(transport, env_a: dict[str, str], env_b: dict[str, str], fa: Path, fb: Path,
             first: bool) -> dict[str, float]:
    """A sends, the transport carries, B applies; then B's seen.json goes back to A."""
    out = {}
    t0 = time.perf_counter()
    out["a_sync_s"] = run(env_a, "sync", *(["--to", str(fa)] if first else []))
    dev_a = device_id(env_a)
    out["transport_a_to_b_s"] = transport.push(fa, fb, dev_a)
    out["b_sync_s"] = run(env_b, "sync", *(["--to", str(fb)] if first else []))
    out["converged_s"] = time.perf_counter() - t0
    out["transport_b_to_a_s"] = transport.push(fb, fa, device_id(env_b))
    return {k: round(v, 2) for k, v in out.items()}


def same_dump(env_a: dict[str, str], env_b: dict[str, str]) -> bool:
    def dump(env: dict[str, str]) -> tuple[bytes, bytes]:
        return (subprocess.run([AIMEM, "export"], env=env, capture_output=True).stdout,
                subprocess.run([AIMEM, "memories", "--json"], env=env,
                               capture_output=True).stdout)
    a, b = dump(env_a), dump(env_b)
    mems = [sorted((m["id"], m["text"], tuple(m.get("tags") or ()))
                   for m in json.loads(x or b"[]")) for x in (a[1], b[1])]
    return a[0] == b[0] and mems[0] == mems[1]


def agent_home(home: Path) -> int:
    """A HOME with Claude Code and Codex session files; how many were put there."""
    n = 0
    for sub, dest in (("claude_code", ".claude/projects/-home-user-project"),
                      ("codex_cli", ".codex/sessions/2026/05/11")):
        d = home / dest
        d.mkdir(parents=True, exist_ok=True)
        for f in sorted((FIXTURES / sub).glob("*.jsonl")) if (FIXTURES / sub).is_dir() else []:
            shutil.copyfile(f, d / f.name)
            n += 1
    return n


def idle_runs(env: dict[str, str], runs: int, compare: Path | None) -> dict[str, object]:
    """`aimem sync` with nothing new, --runs times (interleaved with --compare-src)."""
    variants = {"now": env}
    if compare is not None:
        variants["compare"] = {**env, "PYTHONPATH": str(compare)}
    walls: dict[str, list[float]] = {k: [] for k in variants}
    cpus: dict[str, list[float]] = {k: [] for k in variants}
    for v in variants.values():
        run(v, "sync")  # settle: the first run may still import something
    for _ in range(runs):
        for k, v in variants.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            walls[k].append(run(v, "sync"))
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus[k].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    out: dict[str, object] = {}
    for k in variants:
        out[f"{k}_median_wall_ms"] = round(statistics.median(walls[k]) * 1000)
        out[f"{k}_min_wall_ms"] = round(min(walls[k]) * 1000)
        out[f"{k}_median_cpu_ms"] = round(statistics.median(cpus[k]) * 1000)
    return out


def bytecode(compile_: bool, *trees: Path) -> None:
    for tree in trees:
        for cache in (tree / "aimem").rglob("__pycache__"):
            shutil.rmtree(cache)
        if compile_:
            subprocess.run([sys.executable, "-m", "compileall", "-q", str(tree / "aimem")],
                           check=True, capture_output=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--export", type=Path, default=Path("/work/benchdata/conversations-S.json"))
    ap.add_argument("--transport", choices=("rsync", "syncthing", "none"), default="syncthing",
                    help="none: no second device, only the log, apply vs import (for M).")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--idle-only", action="store_true",
                    help="Only the nothing-new sync (the setup: the export imported on A).")
    ap.add_argument("--compare-src", type=Path, help="A checkout whose aimem to compare with.")
    ap.add_argument("--no-bytecode", action="store_true")
    ap.add_argument("--skip-memories", action="store_true")
    a = ap.parse_args()
    shutil.rmtree(a.work, ignore_errors=True)
    a.work.mkdir(parents=True)
    empty_home = a.work / "user-empty"
    empty_home.mkdir()

    def env(name: str, home: Path = empty_home) -> dict[str, str]:
        return {**os.environ, "AIMEM_HOME": str(a.work / name), "HOME": str(home)}

    out: dict[str, object] = {"transport": a.transport, "export_file": str(a.export),
                              "load_average_start": os.getloadavg()}
    def pair(name: str):  # type: ignore[no-untyped-def]
        fa, fb = a.work / f"{name}-sync-a", a.work / f"{name}-sync-b"
        fa.mkdir()
        fb.mkdir()
        t = (Syncthing(fa, fb, a.work / name) if a.transport == "syncthing"
             else Rsync(fa, fb))
        return t, fa, fb

    if a.transport == "none":
        a.skip_memories = True
    if not a.idle_only and not a.skip_memories:
        sys.path.insert(0, str(ROOT))
        from aimem.services import Archive

        mem = Archive.open(a.work / "M1" / "aimem.db")
        for i in range(1000):
            mem.remember(f"memory {i}: the user prefers option {i % 7} for task "
                         f"{i * 31 % 1000}", tags=["bench"] if i % 3 == 0 else ())
        mem.close()
        transport, fa, fb = pair("mem")
        try:
            out["memories_1000"] = converge(transport, env("M1"), env("M2"), fa, fb, True)
        finally:
            transport.close()
        out["memories_1000_log_bytes"], out["memories_1000_log_gzip_bytes"] = log_bytes(fa)
        out["memories_1000_converged_identical"] = same_dump(env("M1"), env("M2"))
    out["import_on_A_s"] = round(run(env("A"), "import", str(a.export)), 2)
    if not a.idle_only:
        if a.transport == "none":
            fa = a.work / "export-sync-a"
            out["export"] = {"a_sync_s": round(run(env("A"), "sync", "--to", str(fa)), 2)}
        else:
            transport, fa, fb = pair("export")
            try:
                out["export"] = converge(transport, env("A"), env("B"), fa, fb, True)
            finally:
                transport.close()
            out["export_converged_identical"] = same_dump(env("A"), env("B"))
        dev = device_id(env("A"))
        out["export_log_bytes"], out["export_log_gzip_bytes"] = \
            log_bytes(fa / "aimem-sync" / dev)
        out["export_bytes"] = a.export.stat().st_size
        # applying the log on a fresh device vs importing the export directly
        fc = a.work / "sync-c"
        shutil.copytree(fa, fc, ignore=shutil.ignore_patterns(".st*"))
        for d in (fc / "aimem-sync").iterdir():
            if d.is_dir() and d.name != dev:
                shutil.rmtree(d)
        out["apply_log_on_fresh_C_s"] = round(run(env("C"), "sync", "--to", str(fc)), 2)
        out["import_export_on_fresh_D_s"] = round(run(env("D"), "import", str(a.export)), 2)
    else:
        fa = a.work / "idle-sync"
        run(env("A"), "sync", "--to", str(fa))
    # nothing new: A's home (the export, a folder target), with agent session files
    agents = a.work / "user-agents"
    out["idle_agent_files"] = agent_home(agents)
    idle_env = env("A", agents)
    run(idle_env, "sync")  # imports the session files once
    bytecode(not a.no_bytecode, ROOT, *([a.compare_src] if a.compare_src else []))
    if a.no_bytecode:
        idle_env = {**idle_env, "PYTHONDONTWRITEBYTECODE": "1"}
    out["idle_sync"] = {"bytecode": not a.no_bytecode, "runs": a.runs,
                        "command": f"AIMEM_HOME={a.work / 'A'} HOME={agents} {AIMEM} sync",
                        **idle_runs(idle_env, a.runs, a.compare_src)}
    out["load_average_end"] = os.getloadavg()
    print(json.dumps(out, indent=2))
    (a.work / f"devices-results-{a.transport}.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
