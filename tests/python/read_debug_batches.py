"""Reads a running pipeline's debug taps with pyarrow, as users would.

Usage: read_debug_batches.py <base url> <pipeline id>

Prints one JSON object: the columns and row count of the retained batches after the filter
(an Arrow IPC stream from /debug/batches), and of a two-second tail of the sink tap.
"""

import json
import sys
import urllib.request

import pyarrow as pa

ARROW_STREAM = "application/vnd.apache.arrow.stream"


def summary(table):
    return {"columns": table.column_names, "rows": table.num_rows}


def main(base, pipeline):
    request = urllib.request.Request(
        f"{base}/pipelines/{pipeline}/debug/batches?point=filter",
        headers={"Accept": ARROW_STREAM},
    )
    with urllib.request.urlopen(request) as response:
        retained = pa.ipc.open_stream(response.read()).read_all()
    tail_url = f"{base}/pipelines/{pipeline}/debug/tail?point=sink&seconds=2"
    with urllib.request.urlopen(tail_url) as response:
        tailed = pa.ipc.open_stream(response).read_all()
    print(json.dumps({"retained": summary(retained), "tail": summary(tailed)}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
