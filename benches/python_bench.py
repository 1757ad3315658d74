"""One Python workload in one process, for scripts/bench-e2e (timed from outside: the whole process,
import included). Usage: python_bench.py ours|theirs OP URL [ARG], or python_bench.py touch BYTES

OP: query_np SQL | query_arrow SQL | query_df SQL | insert_df TABLE ROWS | insert_arrow TABLE ROWS
(`ours` is clickhouse_connect_rs, `theirs` the Python ClickHouse Connect driver from PyPI.)
The inserted frame is built before the clock that the script prints for inserts starts.
"""

import sys
import time
import urllib.parse

if sys.argv[1] == "touch":
    # The fresh-memory floor: a process that starts, imports NumPy and writes BYTES of new memory once
    # (what holding a result of that size costs at least, before a byte arrives).
    import numpy as np

    np.empty(int(sys.argv[2]) // 8, np.uint64).fill(1)
    raise SystemExit(0)

lib, op, url = sys.argv[1], sys.argv[2], sys.argv[3]
arg = sys.argv[4] if len(sys.argv) > 4 else None
u = urllib.parse.urlsplit(url)
if lib == "ours":
    import clickhouse_connect_rs as cc

    client = cc.get_client(host=u.hostname, port=u.port)
else:
    import clickhouse_connect as cc

    client = cc.get_client(host=u.hostname, port=u.port, compress=False, query_limit=0)

if op == "query_np":
    arr = client.query_np(arg)
    print(arr.shape, file=sys.stderr)
elif op == "query_arrow":
    t = client.query_arrow(arg)
    print(t.num_rows, file=sys.stderr)
elif op == "query_df":
    df = client.query_df(arg)
    print(len(df), file=sys.stderr)
elif op in ("insert_df", "insert_arrow"):
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    table, rows = arg, int(sys.argv[5])
    ids = np.arange(rows, dtype=np.uint64)
    df = pd.DataFrame({"id": ids, "s": ids.astype(str)})
    data = pa.Table.from_pandas(df, preserve_index=False) if op == "insert_arrow" else df
    start = time.perf_counter()
    if op == "insert_df":
        client.insert_df(table, data)
    else:
        client.insert_arrow(table, data)
    # The insert alone, printed for the caller.
    print(f"{time.perf_counter() - start:.3f}")
else:
    raise SystemExit(f"unknown op {op}")
