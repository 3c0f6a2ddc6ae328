"""Peak memory of one poll whose platform answers with a huge page (issue 13).

The Graph emulator runs in this process and pads every list answer to `--megabytes`; one
Facebook poll runs in a child process, so the figure is the poll's alone. The goal is a peak
under 200 MB whatever the platform returns: the answer is dropped past
BORGERBOT_MAX_RESPONSE_BYTES instead of being read whole.

    .venv/bin/python bench/hostile_page.py --megabytes 200

Prints the figures, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from bot.sandbox.graph import GraphEmulator

GOAL_MB = 200.0

CHILD = """
import resource, sys
from bot.errors import PlatformError
from bot.platforms.facebook import FacebookClient
from bot.platforms.http import RetryPolicy
client = FacebookClient(sys.argv[1], sys.argv[2], sys.argv[3],
                        retry=RetryPolicy(attempts=1), timeout=30)
try:
    result = client.fetch_new("comments", "")
    outcome = f"read {len(result.items)} items"
except PlatformError as exc:
    outcome = f"refused: {exc}"
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
print(outcome)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=200.0)
    args = parser.parse_args()
    graph = GraphEmulator()
    graph.start()
    try:
        post = graph.add_post("Vejarbejde på Torvet")
        graph.add_comment(post, "Hvornår er I færdige?", author_id="501", author_name="Jens")
        graph.huge_pages(args.megabytes)
        started = time.monotonic()
        child = subprocess.run(
            [sys.executable, "-c", CHILD, graph.world.page_id, graph.token, graph.base_url + "v26.0/"],
            capture_output=True, text=True, check=True, timeout=300,
        )
        seconds = time.monotonic() - started
    finally:
        graph.stop()
    peak_line, outcome = child.stdout.strip().splitlines()[-2:]
    peak = float(peak_line)
    print(f"page size:        {args.megabytes:.0f} MB")
    print(f"poll outcome:     {outcome[:100]}")
    print(f"poll peak memory: {peak:.1f} MB (goal < {GOAL_MB:.0f} MB)")
    print(f"poll took:        {seconds:.2f} s")
    print(json.dumps({"bench": "hostile_page", "page_mb": args.megabytes, "peak_mb": round(peak, 1),
                      "seconds": round(seconds, 2), "goal_met": peak < GOAL_MB}))


if __name__ == "__main__":
    main()
