"""What the ranker's catalog features cost per fit on a store (issue 13).

    python bench/catalog_cost.py --db STORE.duckdb

Times ``load_interactions``, the serving figures alone (hide sink and creator fatigue), and
the same with the default catalog features (``ranking/ltr/_catalog.py``: the catalog SQL over
the raw events on an in-memory store, materialised into arrays); prints the peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

# bench/ holds scripts named like packages (features.py): import the project, not them.
sys.path[0] = str(Path(__file__).resolve().parents[1])

from features.store import connect  # noqa: E402
from ranking.interactions import load_interactions  # noqa: E402
from ranking.ltr import DEFAULT_FEATURES, compute_stats  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", required=True)
    args = p.parse_args()
    con = connect(args.db, read_only=True)
    t = time.perf_counter()
    data = load_interactions(con)
    print(f"events {data.events.height:,}, load_interactions {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    compute_stats(data)
    print(f"serving figures only {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    compute_stats(data, DEFAULT_FEATURES)
    print(f"with {len(DEFAULT_FEATURES)} catalog features {time.perf_counter() - t:.1f} s")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f} GB")


if __name__ == "__main__":
    main()
