"""Reads a running pipeline's debug taps with pyarrow, as users would.

Usage: read_debug_batches.py <base url> <pipeline id> [<flight host:port>]

Prints one JSON object: the columns and row count of the retained batches after the filter
(an Arrow IPC stream from /debug/batches), of a two-second tail of the sink tap, and, given
the Flight endpoint's address, of the first batch that do_get streams from the filter tap.
"""

import json
import sys
import urllib.request

import pyarrow as pa

ARROW_STREAM = "application/vnd.apache.arrow.stream"


def summary(table):
    return {"columns": table.column_names, "rows": table.num_rows}


def first_flight_batch(address, pipeline):
    import pyarrow.flight as flight

    client = flight.connect(f"grpc://{address}")
    reader = client.do_get(flight.Ticket(f"{pipeline}/filter".encode()))
    chunk = reader.read_chunk()
    reader.cancel()
    client.close()
    return pa.Table.from_batches([chunk.data])


def main(base, pipeline, flight_address=None):
    request = urllib.request.Request(
        f"{base}/pipelines/{pipeline}/debug/batches?point=filter",
        headers={"Accept": ARROW_STREAM},
    )
    with urllib.request.urlopen(request) as response:
        retained = pa.ipc.open_stream(response.read()).read_all()
    tail_url = f"{base}/pipelines/{pipeline}/debug/tail?point=sink&seconds=2"
    with urllib.request.urlopen(tail_url) as response:
        tailed = pa.ipc.open_stream(response).read_all()
    result = {"retained": summary(retained), "tail": summary(tailed)}
    if flight_address:
        result["flight"] = summary(first_flight_batch(flight_address, pipeline))
    print(json.dumps(result))


if __name__ == "__main__":
    main(*sys.argv[1:])
