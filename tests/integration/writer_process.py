"""One writer of a race between processes (tests/integration/test_concurrency.py).

Run as ``python writer_process.py DATABASE_URL JOB_JSON`` (JOB_JSON: a list of
``[command, actor]``). It opens the ledger, prints ``ready``, waits for a line on standard input
(the start signal, sent to every writer at once), sends its commands one by one and prints one
JSON line: per command its reference and status or error code, and how many concurrent-write
conflicts this process retried.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for conflicts

from conflicts import counting_conflicts

from ledger.errors import LedgerError
from ledger.storage import open_ledger


def main() -> None:
    database_url, job = sys.argv[1], json.loads(sys.argv[2])
    writer = open_ledger(database_url)
    results = []
    try:
        with counting_conflicts() as conflicts:
            print("ready", flush=True)
            sys.stdin.readline()
            for command, actor in job:
                try:
                    outcome = writer.execute(command, actor)
                except LedgerError as error:
                    results.append({"reference": command["reference"], "code": error.code})
                else:
                    results.append({"reference": command["reference"], "status": outcome.status})
    finally:
        writer.close()
    print(json.dumps({"results": results, "conflicts": conflicts.conflicts}), flush=True)


if __name__ == "__main__":
    main()
