"""Cost of one audit ``put`` on the caller's thread (the event loop) into a FULL outbox.

    python bench/audit_outbox_bench.py [--events 100000] [--n 2000]

Fills an outbox in a temporary directory to ``--events`` authenticated events, then times ``--n``
more puts (each one is dropped: the outbox is full) and ``--n`` puts into an outbox with room.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
import time
from pathlib import Path

from faas_pro.server.audit import Outbox, make_event


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--n", type=int, default=2000)
    args = ap.parse_args()
    event = make_event({"sub": "fed:x", "name": "n"}, "/system/functions", "POST", ["Function:Create"], 202, 0.0)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "audit.db"
        Outbox(path, max_events=args.events).close()  # the current schema
        text = json.dumps(event, sort_keys=True)
        db = sqlite3.connect(str(path), isolation_level=None)
        db.execute("BEGIN")
        db.executemany("INSERT INTO outbox (event, size) VALUES (?, ?)", [(text, len(text))] * args.events)
        db.execute("COMMIT")
        db.close()
        box = Outbox(path, max_events=args.events)
        try:
            start = time.perf_counter()
            for _ in range(args.n):
                box.put(event)
            full = (time.perf_counter() - start) / args.n
        finally:
            box.close()
        print(f"full outbox ({args.events} events): {full * 1e6:.1f} µs per put, dropped {box.dropped}")
    with tempfile.TemporaryDirectory() as d:
        box = Outbox(Path(d) / "audit.db", max_events=args.events)
        try:
            start = time.perf_counter()
            for _ in range(args.n):
                box.put(event)
            room = (time.perf_counter() - start) / args.n
        finally:
            box.close()
        print(f"outbox with room: {room * 1e6:.1f} µs per put (written by the outbox thread)")


if __name__ == "__main__":
    main()
