#!/usr/bin/env python3
"""Fuzzes the GraphQL API with random schema-valid operations (hypothesis-graphql).

For each root field of Query (and of Mutation, when an editor token is given) it draws
operations selecting that field, POSTs them to the server and checks every response:

* the HTTP status is below 500, or exactly 503 with every error coded SERVICE_UNAVAILABLE;
* the body is a JSON object; every entry of `errors` has a string `extensions.code`;
* no error message (nor any string of `extensions`) leaks SQL, table, column-ish constraint
  or source file names, or a panic;

and at the end that GET /healthz still answers 200.

The run is reproducible: a fixed seed (`--seed`), no example database, a bounded number of
examples per root field, and a time budget after which no further request is sent. Failures are
shrunk by Hypothesis; the smallest failing operation seen for each (field, kind of failure) is
reported. Progress goes to stderr; the last line of stdout is a JSON report. The exit status is
non-zero when anything failed.

Usage: fuzz.py --url http://127.0.0.1:8080 [--token EDITOR_JWT] [--schema schema.graphql]
               [--examples 12] [--mutation-examples 8] [--seed 19] [--budget 40]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import graphql
import hypothesis
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import mutations, nodes, queries
from hypothesis_graphql._strategies import primitives
from hypothesis_graphql._strategies.strategy import GraphQLStrategy

REPO = Path(__file__).resolve().parents[2]

# Database tables (and other internal names) that must never reach a client.
TABLES = [
    "organizations",
    "agreements",
    "agreement_parties",
    "agreement_instruments",
    "projects",
    "project_participants",
    "project_regions",
    "project_themes",
    "project_instruments",
    "events",
    "event_participants",
    "event_instruments",
    "instruments",
    "sources",
    "link_counts",
    "audit_log",
    "seaql_migrations",
]
# Words that are ordinary English in the API's own messages ("organizations", "events") are
# only a leak in an SQL-ish context; the names with an underscore are a leak anywhere.
LEAKS = [
    (re.compile(r"\bSELECT\b.*\bFROM\b", re.S), "SQL SELECT"),
    (re.compile(r"\bINSERT\s+INTO\b"), "SQL INSERT"),
    (re.compile(r"\bUPDATE\b.*\bSET\b", re.S), "SQL UPDATE"),
    (re.compile(r"\bDELETE\s+FROM\b"), "SQL DELETE"),
    (re.compile(r"\bFROM\s+\"\w+\""), "SQL FROM \"table\""),
    (re.compile(r"\bWHERE\b"), "SQL WHERE"),
    (re.compile(r"\bRETURNING\b"), "SQL RETURNING"),
    (re.compile(r"\b(relation|column|constraint|table)\s+\"\w+\"", re.I), "database object"),
    (re.compile(r"\w+_(fkey|pkey|key|check|excl)\b"), "constraint name"),
    (re.compile(r"\bidx_\w+"), "index name"),
    (re.compile(r"\bsqlx\b|\bsea_orm\b|\bsea-orm\b|\bsqlite3?\b|\bSQLSTATE\b|\bpg_\w+", re.I), "driver"),
    (re.compile(r"\.rs:\d+|\bsrc/\w+|\bpanicked\b|\bRUST_BACKTRACE\b"), "source or panic"),
    (re.compile(r"\b(" + "|".join(t for t in TABLES if "_" in t) + r")\b"), "table name"),
    (re.compile(r"\"(" + "|".join(TABLES) + r")\""), "quoted table name"),
]


class FuzzFailure(Exception):
    """A response that breaks a rule; one subclass per kind so Hypothesis shrinks each apart."""

    kind = "failure"


_KINDS: dict[str, type[FuzzFailure]] = {}


def failure(kind: str, detail: str) -> FuzzFailure:
    cls = _KINDS.get(kind)
    if cls is None:
        cls = type("Fuzz_" + re.sub(r"\W", "_", kind), (FuzzFailure,), {"kind": kind})
        _KINDS[kind] = cls
    return cls(detail)


# ---------------------------------------------------------------------------------------------
# Value strategies


def one_of_patch() -> None:
    """hypothesis-graphql 0.13 ignores `@oneOf`: it would draw RecordKey with both or neither of
    its fields, which every request then fails validation on. Give such inputs exactly one."""
    original = GraphQLStrategy.objects
    if getattr(original, "_one_of_aware", False):
        return

    def objects(self, type_, nullable=True, default=None):
        if not getattr(type_, "is_one_of", False):
            return original(self, type_, nullable, default)
        fields = sorted(type_.fields.items())

        def one(item):
            name, field = item
            inner = field.type
            if isinstance(inner, graphql.GraphQLNonNull):
                inner = inner.of_type
            return self.values(graphql.GraphQLNonNull(inner)).map(
                lambda value: nodes.Object([graphql.ObjectFieldNode(name=graphql.NameNode(value=name), value=value)])
            )

        strategy = st.sampled_from(fields).flatmap(one)
        return primitives.maybe_default(primitives.maybe_null(strategy, nullable), default=default)

    objects._one_of_aware = True  # type: ignore[attr-defined]
    GraphQLStrategy.objects = objects  # type: ignore[method-assign]


def optional_arguments_patch() -> None:
    """hypothesis-graphql 0.13 passes every argument of a field (null or not). Real clients leave
    most optional ones out, and a query naming both `first` and `last` or every filter at once is
    refused before it reaches the store: leave each optional argument out half the time."""
    if getattr(GraphQLStrategy.list_of_arguments, "_omits", False):
        return

    def list_of_arguments(self, arguments):
        if not arguments:
            return st.just([])

        @st.composite
        def inner(draw):
            args = []
            for name, argument in arguments.items():
                required = isinstance(argument.type, graphql.GraphQLNonNull)
                if not required and draw(st.booleans()):
                    continue
                default = argument.ast_node.default_value if argument.ast_node is not None else None
                value = draw(self.values(argument.type, default=default))
                args.append(graphql.ArgumentNode(name=graphql.NameNode(value=name), value=value))
            return args

        return inner()

    list_of_arguments._omits = True  # type: ignore[attr-defined]
    GraphQLStrategy.list_of_arguments = list_of_arguments  # type: ignore[method-assign]


INTERESTING_STRINGS = [
    "",
    " ",
    "ilo",
    "%",
    "_",
    "'",
    '"',
    "\\",
    "'; DROP TABLE organizations; --",
    "null",
    "0",
    "-1",
    "2020",
    "2020-06-15",
    "a" * 300,
    "\x00",
    "ilo\x00",
    "\u202e",
    "😀",
    "<script>",
    "*",
    ":",
]


def scalars(known: list[str], allow_nul: bool) -> dict[str, st.SearchStrategy[graphql.ValueNode]]:
    """Strategies for the built-in scalars (biased to values that hit records) and the custom ones."""
    alphabet = st.characters(codec="utf-8", exclude_characters=None if allow_nul else "\x00")
    text = st.text(alphabet=alphabet, max_size=40)
    strings = st.sampled_from(INTERESTING_STRINGS if allow_nul else [s for s in INTERESTING_STRINGS if "\x00" not in s])
    if known:
        strings = st.sampled_from(known) | strings
    string = st.one_of(strings, text).map(nodes.String)
    ints = st.one_of(
        st.integers(min_value=-2, max_value=120),
        st.sampled_from([0, 1, 100, 101, 1000, -(2**31), 2**31 - 1]),
        st.integers(min_value=-(2**31), max_value=2**31 - 1),
    ).map(nodes.Int)
    floats = st.floats(allow_infinity=False, allow_nan=False).map(nodes.Float)
    dates = st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31))
    partial_date = st.one_of(
        dates.map(lambda d: d.isoformat()),
        dates.map(lambda d: d.isoformat()[:7]),
        dates.map(lambda d: d.isoformat()[:4]),
        st.sampled_from(["-1", "0", "2020-13", "2020-02-30", "2020-6", "20200", "2020-06-15T00:00:00Z", "", "x"]),
        text,
    ).map(nodes.String)
    datetimes = st.datetimes(
        min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31), timezones=st.just(dt.timezone.utc)
    )
    date_time = st.one_of(
        datetimes.map(lambda t: t.isoformat()),
        st.sampled_from(["2020-01-01", "-1", "", "2020-01-01T25:00:00Z", "9999-12-31T23:59:59+14:00"]),
        text,
    ).map(nodes.String)
    json_leaf = st.one_of(string, ints, floats, st.booleans().map(nodes.Boolean), st.just(nodes.Null))
    json_value = st.recursive(
        json_leaf,
        lambda children: st.one_of(
            st.lists(children, max_size=4).map(nodes.List),
            st.dictionaries(st.from_regex(r"\A[a-zA-Z_][a-zA-Z0-9_]{0,8}\Z"), children, max_size=4).map(
                lambda d: nodes.Object(
                    [graphql.ObjectFieldNode(name=graphql.NameNode(value=k), value=v) for k, v in d.items()]
                )
            ),
        ),
        max_leaves=8,
    )
    return {
        "String": string,
        "ID": string | ints,
        "Int": ints,
        "Float": floats,
        "PartialDate": partial_date,
        "DateTime": date_time,
        "JSON": json_value,
    }


# ---------------------------------------------------------------------------------------------
# HTTP and checks


class Client:
    def __init__(self, url: str, token: str | None, timeout: float) -> None:
        self.url = url.rstrip("/")
        self.endpoint = self.url + "/graphql"
        self.token = token
        self.timeout = timeout
        self.requests = 0

    def post(self, query: str, accept: str, token: str | None) -> tuple[int, bytes, str]:
        self.requests += 1
        body = json.dumps({"query": query}).encode()
        headers = {"Content-Type": "application/json", "Accept": accept}
        if token:
            headers["Authorization"] = "Bearer " + token
        request = urllib.request.Request(self.endpoint, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.status, response.read(), response.headers.get("Content-Type", "")
        except urllib.error.HTTPError as error:
            return error.code, error.read(), error.headers.get("Content-Type", "")

    def data(self, query: str) -> dict[str, Any]:
        status, body, _ = self.post(query, "application/json", self.token)
        if status != 200:
            raise SystemExit(f"{query} answered HTTP {status}: {body[:500]!r}")
        return json.loads(body).get("data") or {}

    def healthz(self) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.url + "/healthz", timeout=self.timeout) as response:
                return response.status, response.read(2000).decode(errors="replace")
        except urllib.error.HTTPError as error:
            return error.code, error.read(2000).decode(errors="replace")
        except OSError as error:
            return 0, str(error)


def strings_in(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings_in(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings_in(v)]
    return []


def leaks(message: str, inputs: list[str]) -> list[str]:
    # The client's own strings echoed back ("`x` is not a slug") are not a leak (short ones
    # like "_" would blank too much to tell).
    for text in sorted(inputs, key=len, reverse=True):
        if len(text) >= 4:
            message = message.replace(text, "…")
    return [what for pattern, what in LEAKS if pattern.search(message)]


def string_inputs(query: str) -> list[str]:
    """The string values an operation holds."""
    found: list[str] = []

    class Strings(graphql.Visitor):
        def enter_string_value(self, node, *_):
            found.append(node.value)

    try:
        graphql.visit(graphql.parse(query), Strings())
    except graphql.GraphQLError:
        pass
    return found


def root_keys(query: str) -> list[str]:
    """The response keys of the operation's root fields (aliases or names)."""
    try:
        document = graphql.parse(query)
    except graphql.GraphQLError:
        return []
    keys = []
    for definition in document.definitions:
        if isinstance(definition, graphql.OperationDefinitionNode):
            for selection in definition.selection_set.selections:
                if isinstance(selection, graphql.FieldNode) and not selection.directives:
                    keys.append((selection.alias or selection.name).value)
    return keys


def check(status: int, raw: bytes, content_type: str, inputs: list[str] = (), roots: list[str] = ()) -> None:
    """Raises a FuzzFailure (of the kind of the first rule broken) for a bad response."""
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        if status >= 500:
            raise failure(f"HTTP {status}", f"HTTP {status}, body not JSON: {raw[:300]!r}")
        raise failure("body not JSON", f"HTTP {status} {content_type}: {raw[:300]!r}")
    errors = body.get("errors")
    if errors is not None and (not isinstance(errors, list) or not errors):
        raise failure("errors malformed", f"`errors` is {errors!r}")
    errors = errors or []
    if "data" not in body and not errors:
        raise failure("no data, no errors", f"HTTP {status}")
    codes = []
    for error in errors:
        if not isinstance(error, dict) or not isinstance(error.get("message"), str):
            raise failure("error malformed", f"error without a message: {error!r}")
        code = (error.get("extensions") or {}).get("code")
        if not isinstance(code, str) or not code:
            raise failure("error without extensions.code", f"message: {error['message']!r}")
        codes.append(code)
        for text in [error["message"], *strings_in(error.get("extensions"))]:
            found = leaks(text, list(inputs))
            if found:
                raise failure(f"leak: {found[0]}", f"{code}: {text[:400]!r}")
    data = body.get("data")
    if isinstance(data, dict):
        missing = [key for key in roots if key not in data]
        if missing:
            raise failure("root field missing from data", f"no {', '.join(missing)} in data; codes {codes}")
    if status == 503:
        if not codes or any(code != "SERVICE_UNAVAILABLE" for code in codes):
            raise failure("HTTP 503 not SERVICE_UNAVAILABLE", f"codes {codes}")
    elif status >= 500:
        raise failure(f"HTTP {status}", f"codes {codes}")
    if "INTERNAL_SERVER_ERROR" in codes or "INTERNAL" in codes:
        raise failure("INTERNAL_SERVER_ERROR", "codes " + ", ".join(codes))


# ---------------------------------------------------------------------------------------------
# The run


def known_values(client: Client) -> dict[str, list[str]]:
    """IDs and slugs of records in the database (and a few cursors), by type, so lookups and
    filters hit data."""
    values: dict[str, list[str]] = {}
    for field in ["organizations", "agreements", "projects", "events", "instruments"]:
        found = values.setdefault(field[:-1], [])
        try:
            data = client.data(f"{{ {field}(first: 12) {{ edges {{ cursor node {{ id slug }} }} }} }}")
        except Exception as error:  # noqa: BLE001 - a schema without slugs everywhere is fine
            print(f"fuzz: no known values from {field}: {error}", file=sys.stderr)
            continue
        for i, edge in enumerate((data.get(field) or {}).get("edges") or []):
            if i % 6 == 5:
                found.append(edge["cursor"])
            found.extend(v for v in (edge.get("node") or {}).values() if isinstance(v, str))
    return values


def known_for(field: str, known: dict[str, list[str]], rng: random.Random) -> list[str]:
    """The known values for one root field: those of the types it names first and thrice as
    likely (`project`, `addProjectParticipant`), in an order of the field's own."""
    name = field.lower()
    mine = [v for kind, vs in known.items() if kind in name for v in vs]
    rest = [v for vs in known.values() for v in vs]
    rng.shuffle(mine)
    rng.shuffle(rest)
    return mine * 3 + rest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="the server, e.g. http://127.0.0.1:8080")
    parser.add_argument("--token", help="an editor's bearer token: mutations are fuzzed too (throwaway database!)")
    parser.add_argument("--admin-token", help="an admin's bearer token: some requests use it (the audit log)")
    parser.add_argument("--schema", default=str(REPO / "schema.graphql"), help="SDL file, or 'introspect'")
    parser.add_argument("--examples", type=int, default=25, help="examples per Query root field")
    parser.add_argument("--mutation-examples", type=int, default=10, help="examples per Mutation root field")
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--budget", type=float, default=40.0, help="seconds; no request is sent after that")
    parser.add_argument("--no-nul", action="store_true", help="never put U+0000 in strings")
    parser.add_argument("--fields", help="comma-separated root fields to fuzz (default: all)")
    parser.add_argument("--timeout", type=float, default=15.0, help="seconds per request")
    parser.add_argument("--log", help="write every operation and response to this file (JSON lines)")
    args = parser.parse_args()

    started = time.monotonic()
    deadline = started + args.budget
    client = Client(args.url, args.token, args.timeout)

    if args.schema == "introspect":
        data = client.data(graphql.get_introspection_query())
        schema = graphql.build_client_schema(data)
    else:
        schema = graphql.build_schema(Path(args.schema).read_text())
    one_of_patch()
    optional_arguments_patch()
    known = known_values(client)
    accept = st.sampled_from(["application/graphql-response+json", "application/json"])
    # Who asks: queries go anonymous or with a token, mutations with the editor's or admin's.
    query_tokens = [None] + [t for t in (args.token, args.admin_token) if t]
    mutation_tokens = [t for t in (args.token, args.admin_token) if t]

    only = set(args.fields.split(",")) if args.fields else None
    plan: list[tuple[str, str, int]] = []
    for name in schema.query_type.fields:
        plan.append(("query", name, args.examples))
    if args.token and schema.mutation_type is not None:
        for name in schema.mutation_type.fields:
            plan.append(("mutation", name, args.mutation_examples))
    if only is not None:
        plan = [p for p in plan if p[1] in only]

    # (field, kind) -> the smallest failing operation seen.
    failures: dict[tuple[str, str], dict[str, Any]] = {}
    examples = 0
    skipped = 0
    # How the responses went: HTTP statuses and error codes, for the report.
    statuses: dict[str, int] = {}
    codes: dict[str, int] = {}
    with_data = 0
    log = open(args.log, "w") if args.log else None
    errors: list[str] = []

    for index, (operation, field, count) in enumerate(plan):
        if time.monotonic() > deadline:
            skipped += 1
            continue
        def tally(status: int, raw: bytes) -> None:
            nonlocal with_data
            statuses[str(status)] = statuses.get(str(status), 0) + 1
            try:
                body = json.loads(raw)
            except ValueError:
                return
            if not isinstance(body, dict):
                return
            if body.get("data"):
                with_data += 1
            for error in body.get("errors") or []:
                code = str(((error or {}).get("extensions") or {}).get("code")) if isinstance(error, dict) else "?"
                codes[code] = codes.get(code, 0) + 1

        make = mutations if operation == "mutation" else queries
        custom = scalars(known_for(field, known, random.Random(f"{args.seed}:{field}")), allow_nul=not args.no_nul)
        strategy = make(schema, fields=[field], custom_scalars=custom)
        who = st.sampled_from(mutation_tokens if operation == "mutation" else query_tokens)

        @settings(
            max_examples=count,
            database=None,
            deadline=None,
            derandomize=False,
            verbosity=Verbosity.quiet,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.generate, Phase.shrink],
            report_multiple_bugs=True,
        )
        # A seed per field: with one for all, every field would draw the same first values.
        @hypothesis.seed(args.seed * 1000 + index)
        @given(query=strategy, accept=accept, bearer=who)
        def run(query: str, accept: str, bearer: str | None) -> None:
            nonlocal examples
            if time.monotonic() > deadline:
                return
            examples += 1
            try:
                status, raw, content_type = client.post(query, accept, bearer)
            except OSError as error:
                status, raw, content_type = 0, str(error).encode(), ""
                problem: FuzzFailure = failure("no response", str(error))
            else:
                tally(status, raw)
                if log is not None:
                    log.write(json.dumps({"query": query, "status": status, "response": raw[:2000].decode(errors="replace")}) + "\n")
                try:
                    check(status, raw, content_type, string_inputs(query), root_keys(query))
                    return
                except FuzzFailure as found:
                    problem = found
            key = (field, problem.kind)
            seen = failures.get(key)
            if seen is None or len(query) < len(seen["query"]):
                failures[key] = {
                    "field": f"{operation} {field}",
                    "kind": problem.kind,
                    "detail": str(problem),
                    "query": query,
                    "accept": accept,
                    "as": "admin" if bearer and bearer == args.admin_token else "editor" if bearer else "anonymous",
                    "status": status,
                    "response": raw[:1500].decode(errors="replace"),
                }
            raise problem

        before = len(failures)
        try:
            run()
        except FuzzFailure:
            pass
        except BaseExceptionGroup as group:  # several kinds of failure at once
            rest = group.subgroup(lambda e: not isinstance(e, FuzzFailure))
            if rest is not None:
                errors.append(f"{field}: {rest!r}")
        except hypothesis.errors.FlakyFailure:
            pass  # the budget ran out while shrinking: what was recorded stands
        except Exception as error:  # noqa: BLE001 - the fuzzer's own trouble, reported
            errors.append(f"{field}: {type(error).__name__}: {error}")
        new = len(failures) - before
        print(
            f"fuzz: {operation} {field}: {'%d failure kind(s)' % new if new else 'ok'}"
            f" ({examples} examples, {time.monotonic() - started:.1f}s)",
            file=sys.stderr,
        )

    health_status, health_body = client.healthz()
    alive = health_status == 200
    report = {
        "ok": alive and not failures and not errors,
        "examples": examples,
        "requests": client.requests,
        "fields": len(plan) - skipped,
        "fields_skipped_for_time": skipped,
        "seconds": round(time.monotonic() - started, 1),
        "seed": args.seed,
        "statuses": statuses,
        "responses_with_data": with_data,
        "error_codes": dict(sorted(codes.items(), key=lambda kv: -kv[1])),
        "healthz": {"status": health_status, "body": health_body[:300]},
        "failures": sorted(failures.values(), key=lambda f: (f["kind"], f["field"])),
        "errors": errors,
    }
    for f in report["failures"]:
        print(f"FAIL [{f['kind']}] {f['field']}: {f['detail']}\n  {f['query']}\n  -> {f['status']} {f['response'][:400]}", file=sys.stderr)
    print(json.dumps(report))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
