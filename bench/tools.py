#!/usr/bin/env python3
"""Helpers of scripts/bench and scripts/bench-peers (standard library only): request bodies,
schema requirements, statement capture from the PostgreSQL log, response checks, percentiles of
pgbench logs, the final JSON + Markdown reports, and for the peers the check that two servers
returned the same records, a process tree's peak memory and the medians across rounds. Run
`python3 bench/tools.py COMMAND --help`."""

import argparse
import glob
import json
import os
import re
import statistics
import sys
import time
import urllib.error
import urllib.request
from collections import Counter

HEADER = re.compile(r"^#\s*(requires|auth|variables):\s*(.*?)\s*$")


def headers(path):
    """The `# requires:`, `# auth:` and `# variables:` lines of a workload file."""
    out = {"requires": [], "auth": None, "variables": None}
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = HEADER.match(line)
            if not m:
                continue
            key, value = m.groups()
            if key == "requires":
                out["requires"] += [v.strip() for v in value.split(",") if v.strip()]
            elif key == "auth":
                out["auth"] = value
            else:
                out["variables"] = json.loads(value)
    return out


def operation_name(text):
    m = re.search(r"^\s*(query|mutation)\s+(\w+)", text, re.M)
    return m.group(2) if m else None


def cmd_body(args):
    with open(args.file, encoding="utf-8") as f:
        text = f.read()
    body = {"query": text, "operationName": operation_name(text)}
    variables = headers(args.file)["variables"]
    if variables is not None:
        body["variables"] = variables
    json.dump(body, sys.stdout)


def post(url, body, token=None, timeout=30):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method="POST")
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def cmd_requires(args):
    """Prints the first requirement (`Type.field`) the live schema lacks, nothing when all hold."""
    need = headers(args.file)["requires"]
    if not need:
        return
    query = "{ __schema { types { name fields { name } } } }"
    status, raw = post(args.url, {"query": query})
    types = {}
    if status == 200:
        for t in json.loads(raw)["data"]["__schema"]["types"]:
            types[t["name"]] = {f["name"] for f in (t["fields"] or [])}
    for req in need:
        type_name, _, field = req.partition(".")
        if field not in types.get(type_name, set()):
            print(req)
            return


def cmd_sample(args):
    """Sends the body N times, counting HTTP failures and bodies carrying GraphQL `errors`. A
    file of several lines holds one body per line (a workload with __N__): request i sends
    line i, so a mutation is checked with distinct bodies, as the load sends them. `--save`
    keeps the last response (scripts/bench-peers compares them across servers)."""
    with open(args.body, "rb") as f:
        bodies = [line for line in f.read().splitlines() if line.strip()]
    http_errors = graphql_errors = 0
    codes = {}
    for i in range(args.n):
        status, raw = post(args.url, bodies[i % len(bodies)], args.token or None)
        if args.save:
            with open(args.save, "wb") as f:
                f.write(raw)
        if status >= 400:
            http_errors += 1
        try:
            errors = json.loads(raw).get("errors")
        except ValueError:
            errors = [{"message": "body is not JSON"}]
        if errors:
            graphql_errors += 1
            for e in errors:
                code = (e.get("extensions") or {}).get("code", "<none>")
                codes[code] = codes.get(code, 0) + 1
    json.dump(
        {"requests": args.n, "http_errors": http_errors, "graphql_errors": graphql_errors,
         "codes": codes},
        sys.stdout,
    )


LINE = re.compile(r"^\S+ \S+ \S+ \[\d+\] (?P<who>\S*)@(?P<db>\S*) (?P<level>[A-Z]+):  (?P<text>.*)$")
EXECUTE = re.compile(r"^(?:execute [^:]*|statement): (?P<sql>.*)$", re.S)
PARAM = re.compile(r"\$(\d+) = (NULL|'(?:[^']|'')*')")


def log_entries(path, offset, db):
    """(level, text) of each entry of `db` in the log after byte `offset`, continuation lines joined."""
    with open(path, "rb") as f:
        f.seek(offset)
        raw = f.read().decode("utf-8", "replace")
    entries = []
    current = None
    for line in raw.splitlines():
        if line.startswith("\t") and current is not None:
            current[1] += "\n" + line[1:]
            continue
        m = LINE.match(line)
        if not m:
            current = None
            continue
        if m.group("db") != db:
            current = None
            continue
        current = [m.group("level"), m.group("text")]
        entries.append(current)
    return entries


def cmd_capture(args):
    """Writes the statements the server sent for one request as a pgbench script, parameters
    inlined as the literals PostgreSQL logged; prints how many there were."""
    statements = []
    for level, text in log_entries(args.log, args.offset, args.db):
        if level == "LOG":
            m = EXECUTE.match(text)
            if m:
                statements.append([m.group("sql"), {}])
        elif level == "DETAIL" and text.startswith("parameters: ") and statements:
            statements[-1][1] = {int(n): v for n, v in PARAM.findall(text)}
    with open(args.out, "w", encoding="utf-8") as f:
        for sql, params in statements:
            # Highest numbers first, so $1 never eats the start of $10.
            for n in sorted(params, reverse=True):
                sql = sql.replace(f"${n}", params[n])
            f.write(sql.replace("\n", " ") + ";\n")
    print(len(statements))


def plan_nodes(node):
    """Every node of an EXPLAIN (FORMAT JSON) plan, depth first."""
    yield node
    for child in node.get("Plans", []):
        yield from plan_nodes(child)


# A data-modifying part of a statement: `INSERT INTO`, `UPDATE "table" SET`, `DELETE FROM`.
WRITES = re.compile(r'\b(INSERT\s+INTO|UPDATE\s+"?\w+"?\s+SET|DELETE\s+FROM)\b', re.IGNORECASE)


def cmd_explain(args):
    """EXPLAIN (ANALYZE, BUFFERS) of each statement of a captured script against the database:
    writes the plans as text, and prints one JSON line with the total execution time (ms) and
    every sequential scan (relation, rows it read): a nested page must never scan a table."""
    import subprocess

    with open(args.sql, encoding="utf-8") as f:
        statements = [line.rstrip().rstrip(";") for line in f if line.strip()]
    total = 0.0
    scans = []
    texts = []
    def psql(sql):
        return subprocess.run(
            ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", args.url, "-c", sql],
            capture_output=True, text=True, check=True,
        ).stdout
    for i, sql in enumerate(statements):
        # Writes are not explained (EXPLAIN ANALYZE would run them), a `WITH` whose parts
        # write (a link group's statement on PostgreSQL) included.
        if not sql.lstrip().upper().startswith(("SELECT", "WITH")) or WRITES.search(sql):
            continue
        # Once to warm the cache as the server's request did, then the measured run.
        psql(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
        plan = json.loads(psql(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}"))[0]
        total += plan["Execution Time"]
        for node in plan_nodes(plan["Plan"]):
            if node["Node Type"] == "Seq Scan":
                scans.append({
                    "statement": i + 1,
                    "relation": node.get("Relation Name"),
                    "rows": node.get("Actual Rows", 0) * node.get("Actual Loops", 1)
                            + node.get("Rows Removed by Filter", 0) * node.get("Actual Loops", 1),
                })
        text = psql(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        texts.append(f"-- statement {i + 1}: {plan['Execution Time']:.2f} ms\n{sql}\n{text}")
    with open(args.out, "w", encoding="utf-8") as f:
        f.write("\n".join(texts))
    print(json.dumps({"sql_ms": round(total, 2), "seq_scans": scans}))


def cmd_pgbench_latency(args):
    """p50/p95/p99 (ms) of pgbench's per-transaction logs, schedule lag included (with -R that
    is the latency correction: time waited behind the schedule counts)."""
    values = []
    for path in glob.glob(args.prefix + ".*"):
        with open(path, encoding="utf-8") as f:
            for line in f:
                parts = line.split()
                if len(parts) < 6:
                    continue
                latency = int(parts[2])
                lag = int(parts[6]) if len(parts) > 6 else 0
                values.append((latency + lag) / 1000.0)
    values.sort()

    def pct(p):
        if not values:
            return None
        return round(values[min(len(values) - 1, int(p / 100.0 * len(values)))], 2)

    json.dump({"n": len(values), "p50": pct(50), "p95": pct(95), "p99": pct(99)}, sys.stdout)


def fmt(v, digits=1):
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def cmd_report(args):
    """Gathers each workload's JSON into one file and a Markdown table."""
    runs = []
    for path in sorted(glob.glob(os.path.join(args.dir, "workloads", "*.json"))):
        with open(path, encoding="utf-8") as f:
            runs.append(json.load(f))
    with open(os.path.join(args.dir, "meta.json"), encoding="utf-8") as f:
        meta = json.load(f)
    result = {"meta": meta, "workloads": runs}
    with open(os.path.join(args.dir, "results.json"), "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)
    lines = [
        f"Scale {meta['scale']} (seed {meta['seed']}), concurrency {meta['concurrency']}, "
        f"{meta['duration']} per run, {meta['machine']}, {meta['date']}.",
        "",
        "| workload | server req/s (closed) | rate (req/s) | server p50 / p95 / p99 ms | errors | SQL / req | SQL ms (EXPLAIN) | seq scans | peak RSS MiB | pgbench tx/s (closed) | pgbench p50 / p95 / p99 ms | server ÷ pgbench |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in runs:
        if r.get("skipped"):
            lines.append(f"| {r['workload']} | skipped: {r['skipped']} | | | | | | | | | | |")
            continue
        s, p = r["server"], r.get("pgbench") or {}
        ratio = None
        if p.get("tps") and s.get("rps"):
            ratio = s["rps"] / p["tps"]
        errors = (f"{s['errors']} / {s['requests']} load; "
                  f"{r['sample']['graphql_errors']} / {r['sample']['requests']} checked")
        plans = r.get("plans") or {}
        scans = plans.get("seq_scans")
        scan_text = "–" if scans is None else (
            "none" if not scans else ", ".join(f"{x['relation']} ({x['rows']})" for x in scans))
        lines.append(
            "| {w} | {rps} | {rate} | {sl} | {err} | {sql} | {sqlms} | {scans} | {mem} | {tps} | {pl} | {ratio} |".format(
                w=r["workload"],
                rps=fmt(s.get("rps")),
                rate=fmt(s.get("rate"), 0),
                sl=" / ".join(fmt(s.get(k)) for k in ("p50", "p95", "p99")),
                err=errors,
                sql=fmt(r.get("statements")),
                sqlms=fmt(plans.get("sql_ms")),
                scans=scan_text,
                mem=fmt(r.get("peak_rss_mib")),
                tps=fmt(p.get("tps")),
                pl=" / ".join(fmt(p.get(k)) for k in ("p50", "p95", "p99")) if p else "–",
                ratio=(fmt(ratio, 2) if ratio is not None else "–"),
            )
        )
    table = "\n".join(lines) + "\n"
    with open(os.path.join(args.dir, "results.md"), "w", encoding="utf-8") as f:
        f.write(table)
    print(table)


def cmd_oha(args):
    """Throughput, latency percentiles (ms) and non-2xx/failed requests from oha's JSON."""
    with open(args.file, encoding="utf-8") as f:
        data = json.load(f)
    summary = data.get("summary", {})
    pct = data.get("latencyPercentiles", {})
    codes = data.get("statusCodeDistribution", {})
    ok = sum(n for code, n in codes.items() if str(code).startswith("2"))
    # Requests still in flight at the deadline are not failures (-w waits for them anyway).
    failed = sum(n for kind, n in data.get("errorDistribution", {}).items()
                 if kind != "aborted due to deadline")
    total = sum(codes.values()) + failed

    def ms(key):
        v = pct.get(key)
        return None if v is None else round(v * 1000.0, 2)

    json.dump(
        {"rps": round(summary.get("requestsPerSec") or 0.0, 1), "requests": total,
         "errors": total - ok, "p50": ms("p50"), "p95": ms("p95"), "p99": ms("p99")},
        sys.stdout,
    )


# --- scripts/bench-peers ----------------------------------------------------------------------

# The fields that say which record a response holds: the same under our schema and
# PostGraphile's (the peer queries alias theirs to our names where they differ). Enum-like
# values (`role`, `kind`) are compared case- and separator-insensitively: ours are GraphQL enums
# (CO_ORGANIZER), PostGraphile's the stored text.
IDENTITY = ("slug", "name", "title", "role", "kind")


def _norm(key, value):
    if key in ("role", "kind") and isinstance(value, str):
        return value.lower().replace("-", "_")
    return value


def _is_connection(value):
    return isinstance(value, dict) and ("nodes" in value or "edges" in value)


def _canon(value, ordered):
    """A response as a tree of records, whatever the schema's shape: a connection (nodes or
    edges) or a list is a list of records; an object that is neither (an edge's `node`, a link
    row's `organization`) is merged into the record that holds it, so our edge {role, node {slug}}
    and PostGraphile's link row {role, organization {slug}} are the same record. A record is its
    identity fields and, in document order, its lists (by field name: the peer queries alias
    theirs to ours) with their totalCount. Unordered: each list sorted, as the records' order is
    not compared."""
    if value is None:
        return None
    if _is_connection(value):
        items = value.get("nodes") if value.get("nodes") is not None else value.get("edges") or []
        return ("list", value.get("totalCount"), _canon_list(items, ordered))
    if isinstance(value, list):
        return ("list", None, _canon_list(value, ordered))
    fields, children = {}, []
    _merge(value, fields, children, ordered)
    return ("record", tuple(sorted(fields.items())), tuple(children))


def _canon_list(items, ordered):
    out = [_canon(x, ordered) for x in items]
    if not ordered:
        out.sort(key=repr)
    return tuple(out)


def _merge(obj, fields, children, ordered):
    for key, value in obj.items():
        if key in IDENTITY and not isinstance(value, (dict, list)):
            fields[key] = _norm(key, value)
        elif _is_connection(value) or isinstance(value, list):
            children.append((key, _canon(value, ordered)))
        elif isinstance(value, dict):
            _merge(value, fields, children, ordered)


def _first_difference(a, b, path="data"):
    """Where two canonical trees first differ, in words."""
    if type(a) is not type(b) or not isinstance(a, tuple) or a[:1] != b[:1]:
        return f"{path}: {_short(a)} ≠ {_short(b)}"
    if a[0] == "list":
        if a[1] != b[1]:
            return f"{path}: totalCount {a[1]} ≠ {b[1]}"
        common = sum((Counter(a[2]) & Counter(b[2])).values())
        if Counter(a[2]) == Counter(b[2]):
            i = next(i for i, (x, y) in enumerate(zip(a[2], b[2])) if x != y)
            return f"{path}: the same {len(a[2])} records in another order (first at [{i}])"
        if len(a[2]) != len(b[2]) or common < len(a[2]) - 1:
            return f"{path}: {common} of our {len(a[2])} records among its {len(b[2])}"
        # One record differs: say where in it.
        for i, (x, y) in enumerate(zip(a[2], b[2])):
            if x != y:
                return _first_difference(x, y, f"{path}[{i}]")
    else:
        if a[1] != b[1]:
            return f"{path}: {_short(dict(a[1]))} ≠ {_short(dict(b[1]))}"
        if len(a[2]) != len(b[2]):
            return f"{path}: {len(a[2])} lists ≠ {len(b[2])}"
        for (kx, x), (ky, y) in zip(a[2], b[2]):
            if kx != ky:
                return f"{path}: list {kx} ≠ {ky}"
            if x != y:
                return _first_difference(x, y, f"{path}.{kx}")
    return f"{path}: differ"


def _short(v):
    text = json.dumps(v, ensure_ascii=False, default=str)
    return text if len(text) <= 120 else text[:117] + "..."


def _count_records(tree):
    if not isinstance(tree, tuple):
        return 0
    if tree[0] == "list":
        return len(tree[2]) + sum(_count_records(x) for x in tree[2])
    return sum(_count_records(x) for _, x in tree[2])


def cmd_equivalent(args):
    """Compares the records of each peer's response with ours (the first file): prints one JSON
    line {"records": N, "peers": {file: "same" | difference}}; `--ordered` compares the order of
    every list too (for queries that ask the peer for our order)."""
    def load(path):
        with open(path, encoding="utf-8") as f:
            body = json.load(f)
        if body.get("errors"):
            return None, "errors: " + "; ".join(e.get("message", "?") for e in body["errors"])[:200]
        if body.get("data") is None:
            return None, "no data"
        return _canon(body["data"], args.ordered), None

    ours, ours_error = load(args.ours)
    result = {"records": _count_records(ours), "ordered": args.ordered, "peers": {}}
    for path in args.peers:
        theirs, error = load(path)
        if ours_error:
            result["peers"][path] = "ours: " + ours_error
        elif error:
            result["peers"][path] = error
        elif theirs == ours:
            result["peers"][path] = "same"
        else:
            result["peers"][path] = _first_difference(ours, theirs)
    print(json.dumps(result, ensure_ascii=False))


def _children(pid):
    out = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat, encoding="utf-8") as f:
                text = f.read()
        except OSError:
            continue
        # The command may hold spaces and parentheses: fields follow the last ')'.
        fields = text[text.rindex(")") + 2:].split()
        if int(fields[1]) == pid:
            out.append(int(stat.split("/")[2]))
    return out


def cmd_rss(args):
    """Peak resident memory (VmHWM) of a process and all its descendants, summed, in MiB: a
    node cluster's primary and its workers, or our one server process."""
    total_kb, todo, seen = 0, [args.pid], set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            with open(f"/proc/{pid}/status", encoding="utf-8") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        total_kb += int(line.split()[1])
        except OSError:
            continue
        todo += _children(pid)
    print(round(total_kb / 1024.0, 1))


def _median(values):
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2.0


def cmd_peers_report(args):
    """Gathers scripts/bench-peers' measure.jsonl (one JSON object a line: runs, SQL counts,
    equivalence checks) into peers.json and the Markdown table peers.md: medians across rounds."""
    with open(os.path.join(args.dir, "meta.json"), encoding="utf-8") as f:
        meta = json.load(f)
    runs, sql, same, rows = {}, {}, {}, []
    with open(os.path.join(args.dir, "measure.jsonl"), encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            m = json.loads(line)
            if m["kind"] == "row":
                rows.append(m)
            elif m["kind"] == "run":
                runs.setdefault((m["query"], m["server"]), []).append(m)
            elif m["kind"] == "sql":
                sql[(m["query"], m["server"])] = m["statements"]
            elif m["kind"] == "equivalent":
                same[(m["row"], m["server"])] = m["result"]
    servers = meta["servers"]
    peers = [s for s in servers if s != "ours"]

    def med(query, server, key):
        return _median([r.get(key) for r in runs.get((query, server), [])])

    out_rows, notes = [], []
    for row in rows:
        figures = {}
        for server in servers:
            q = row["queries"].get(server)
            rs = runs.get((q, server), [])
            figures[server] = {
                "query": q,
                "rounds": len(rs),
                "rps": med(q, server, "rps"),
                "p50": med(q, server, "p50"),
                "p99": med(q, server, "p99"),
                "peak_rss_mib": med(q, server, "rss_mib"),
                "errors": sum(r.get("errors", 0) for r in rs),
                "requests": sum(r.get("requests", 0) for r in rs),
                "statements": sql.get((q, server)),
                "same_records": None if server == "ours" else same.get((row["row"], server)),
            }
        out_rows.append({"row": row["row"], "workload": row["workload"], "servers": figures})

    with open(os.path.join(args.dir, "peers.json"), "w", encoding="utf-8") as f:
        json.dump({"meta": meta, "rows": out_rows}, f, indent=2, ensure_ascii=False)

    head = ["workload", "ours req/s"] + [PEER_TITLES.get(p, p) if i == 0 else p
                                         for i, p in enumerate(peers)]
    head += [f"ours ÷ {p}" for p in peers]
    who = " / ".join(servers)
    head += [f"SQL/req {who}", f"p50 ms {who}", f"p99 ms {who}", f"peak RSS MB {who}"]
    lines = [
        f"Scale {meta['scale']} (seed {meta['seed']}), concurrency {meta['concurrency']}, "
        f"{meta['duration']} per run after a {meta['warmup']} warm-up, median of {meta['rounds']} "
        f"round(s), {meta['machine']}, {meta['date']}. Peers: {meta['peers']}.",
        "",
        "| " + " | ".join(head) + " |",
        "| --- | " + " | ".join("---:" for _ in head[1:]) + " |",
    ]
    for r in out_rows:
        f_ = r["servers"]
        marks = []
        for p in peers:
            verdict = f_[p]["same_records"]
            if verdict is not None and verdict != "same":
                marks.append(f"≠{p}")
                notes.append(f"- {r['row']}: {p} returned other records than ours: {verdict}")
        for s in servers:
            if f_[s]["errors"]:
                marks.append(f"{s} errors")
                notes.append(f"- {r['row']}: {s}: {f_[s]['errors']} of {f_[s]['requests']} "
                             "requests failed (non-2xx or transport errors)")
        name = r["row"] + (f" ⚠ {', '.join(marks)}" if marks else "")
        cells = [name, fmt(f_["ours"]["rps"])] + [fmt(f_[p]["rps"]) for p in peers]
        for p in peers:
            a, b = f_["ours"]["rps"], f_[p]["rps"]
            cells.append(fmt(a / b, 2) if a and b else "–")
        for key in ("statements", "p50", "p99", "peak_rss_mib"):
            cells.append(" / ".join(fmt(f_[s][key], 0 if key == "statements" else 1 if key == "peak_rss_mib" else 2)
                                    for s in servers))
        lines.append("| " + " | ".join(cells) + " |")
    if notes:
        lines += ["", "Marked rows:"] + notes
    table = "\n".join(lines) + "\n"
    with open(os.path.join(args.dir, "peers.md"), "w", encoding="utf-8") as f:
        f.write(table)
    print(table)


PEER_TITLES = {"v5": "PostGraphile v5", "v4": "PostGraphile v4"}


def cmd_wait(args):
    deadline = time.time() + args.seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(args.url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.2)
    sys.exit(f"{args.url} did not answer within {args.seconds} s")


# --- scripts/bench-embedded --------------------------------------------------------------------

def cmd_cold_start(args):
    """Process start to the first answered query, on the embedded store, in a new empty
    directory each run with no environment but PATH (so migrations and seeding from the
    dataset the binary carries are included): one JSON line with each run's ms and the median."""
    import shutil
    import subprocess
    import tempfile

    query = json.dumps({"query": '{ organization(by: {slug: "ilo"}) { name } }'}).encode()
    runs = []
    for _ in range(args.runs):
        workdir = tempfile.mkdtemp(prefix="partnerships-cold-")
        env = {"PATH": os.environ.get("PATH", ""), "PORT": str(args.port), "LOG_LEVEL": "warn"}
        started = time.perf_counter()
        proc = subprocess.Popen([os.path.abspath(args.bin)], cwd=workdir, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while True:
                if time.perf_counter() - started > 60:
                    sys.exit("the server did not answer within 60 s")
                try:
                    request = urllib.request.Request(
                        f"http://127.0.0.1:{args.port}/graphql", data=query,
                        headers={"Content-Type": "application/json"})
                    with urllib.request.urlopen(request, timeout=2) as resp:
                        body = json.load(resp)
                        if resp.status == 200 and body.get("data", {}).get("organization"):
                            break
                except (urllib.error.URLError, ConnectionError, OSError):
                    pass
                time.sleep(0.002)
            runs.append(round((time.perf_counter() - started) * 1000.0, 1))
        finally:
            proc.terminate()
            proc.wait()
            shutil.rmtree(workdir, ignore_errors=True)
    json.dump({"runs_ms": runs, "median_ms": statistics.median(runs)}, sys.stdout)


def cmd_count_sqlite(args):
    """Rows of `organizations` whose slug starts with a prefix, read from the SQLite file."""
    import sqlite3

    with sqlite3.connect(args.file) as db:
        (n,) = db.execute("SELECT count(*) FROM organizations WHERE slug LIKE ?",
                          (args.prefix + "%",)).fetchone()
    print(n)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(required=True)
    p = sub.add_parser("body"); p.add_argument("file"); p.set_defaults(fn=cmd_body)
    p = sub.add_parser("cold-start"); p.add_argument("bin"); p.add_argument("--runs", type=int, default=5)
    p.add_argument("--port", type=int, default=18091); p.set_defaults(fn=cmd_cold_start)
    p = sub.add_parser("count-sqlite"); p.add_argument("file"); p.add_argument("prefix")
    p.set_defaults(fn=cmd_count_sqlite)
    p = sub.add_parser("requires"); p.add_argument("file"); p.add_argument("url")
    p.set_defaults(fn=cmd_requires)
    p = sub.add_parser("sample"); p.add_argument("url"); p.add_argument("body")
    p.add_argument("-n", type=int, default=20); p.add_argument("--token", default="")
    p.add_argument("--save", default="", help="write the last response body to this file")
    p.set_defaults(fn=cmd_sample)
    p = sub.add_parser("capture"); p.add_argument("log"); p.add_argument("offset", type=int)
    p.add_argument("db"); p.add_argument("out"); p.set_defaults(fn=cmd_capture)
    p = sub.add_parser("explain"); p.add_argument("url"); p.add_argument("sql"); p.add_argument("out")
    p.set_defaults(fn=cmd_explain)
    p = sub.add_parser("pgbench-latency"); p.add_argument("prefix")
    p.set_defaults(fn=cmd_pgbench_latency)
    p = sub.add_parser("oha"); p.add_argument("file"); p.set_defaults(fn=cmd_oha)
    p = sub.add_parser("report"); p.add_argument("dir"); p.set_defaults(fn=cmd_report)
    p = sub.add_parser("wait"); p.add_argument("url"); p.add_argument("--seconds", type=float, default=30)
    p.set_defaults(fn=cmd_wait)
    p = sub.add_parser("equivalent", help=cmd_equivalent.__doc__); p.add_argument("ours")
    p.add_argument("peers", nargs="+"); p.add_argument("--ordered", action="store_true")
    p.set_defaults(fn=cmd_equivalent)
    p = sub.add_parser("rss", help=cmd_rss.__doc__); p.add_argument("pid", type=int)
    p.set_defaults(fn=cmd_rss)
    p = sub.add_parser("peers-report", help=cmd_peers_report.__doc__); p.add_argument("dir")
    p.set_defaults(fn=cmd_peers_report)
    args = parser.parse_args()
    args.fn(args)


if __name__ == "__main__":
    main()
