"""API benchmark: 100,000 generated studies in PostgreSQL behind gunicorn.

    python bench/api.py [--studies 100000] [--reseed] [--requests 300] [--concurrency 4]
        [--database-url postgres://postgres@127.0.0.1:5432/evidb_bench_api]

1. Seed (skipped when the database already holds --studies studies; --reseed forces it):
   the generated studies of bench/generate.py, with appraisal, effect sizes, limitations
   and research gaps added, go through the import service as EviDB JSON in files of
   10,000, so the rows are exactly what an import produces (search document, graph...).
2. Serve the app with gunicorn (2 workers, production settings, 127.0.0.1 only).
3. Drive it from client threads over keep-alive HTTP connections with a bounded number
   of requests per scenario; print p50/p95 latency and requests per second beside issue
   4's targets, the bytes and time of a ~10,000-record RIS export with the server's
   memory before and after, and the "floor": the list page as one raw SQL query encoded
   with orjson in-process, so the API's overhead over it is visible.
4. Queries per request, measured in-process with Django's test client (no debug header
   on the server), and stop the server.
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/evidb_bench_api"
SEED_FILE_STUDIES = 10_000
EXPORT_TARGET_RECORDS = 10_000
HOST = "127.0.0.1"
SERVER_LOG = Path(tempfile.gettempdir()) / "evidb-bench-api-gunicorn.log"

# Filter names as api/filters.py defines them (StudyFilterSet).
LIST_PATH = "/api/v1/studies/"
DESIGNS = ("rct", "cohort", "systematic_review", "meta_analysis", "animal", "case_control")
LIST_QUERY = {"year_min": 2015, "page_size": 50}
GROUP_BY_QUERY = {"group_by": "design,pub_year"}


@dataclass
class Run:
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    def p(self, share: float) -> float:
        return percentile(self.latencies, share) * 1000 if self.latencies else float("nan")

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


@dataclass
class Scenario:
    name: str
    paths: list[str]
    requests: int
    # Issue 4's targets: (p50 ms, p95 ms, req/s), None where the issue sets none.
    p50_ms: float | None = None
    p95_ms: float | None = None
    rate: float | None = None
    # One client at a time (latency), then --concurrency clients (throughput).
    serial: Run = field(default_factory=Run)
    loaded: Run = field(default_factory=Run)


# -- seeding (child process) ---------------------------------------------------------------


def phase_seed(*, studies: int, seed: int, database_url: str) -> dict:
    common.setup_django(database_url)
    from bench.generate import PubmedGenerator
    from evidence.importers.evidb_json import dump_records
    from evidence.services import study_import

    generator = PubmedGenerator(records=studies, seed=seed)
    started = time.perf_counter()
    totals = {"created": 0, "failed": 0}
    with tempfile.TemporaryDirectory(prefix="evidb-bench-api-") as folder:
        for start in range(0, studies, SEED_FILE_STUDIES):
            stop = min(studies, start + SEED_FILE_STUDIES)
            path = Path(folder) / f"studies-{start:06d}.json"
            with path.open("w", encoding="utf-8") as out:
                dump_records(generator.iter_records(start=start, stop=stop, curated=True), out)
            with path.open("rb") as stream:
                run = study_import(stream=stream, source_name=path.name, format="json")
            path.unlink()
            if run.status != "succeeded":
                raise SystemExit(f"seeding {path.name}: {run.status}: {run.messages[:3]}")
            totals["created"] += run.created
            totals["failed"] += run.failed
            elapsed = time.perf_counter() - started
            print(f"  seeded {stop:,}/{studies:,} ({stop / elapsed:,.0f} studies/s)", flush=True)
    return {**totals, "seconds": time.perf_counter() - started, "peak_rss_mb": common.peak_rss_mb()}


def ensure_seeded(args: argparse.Namespace) -> None:
    if not args.reseed and common.database_exists(args.database_url):
        common.migrate(args.database_url)
        held = common.table_counts(args.database_url, ["evidence_study"])["evidence_study"]
        if held == args.studies:
            print(f"reusing {args.database_url}: {held:,} studies")
            return
        print(f"{args.database_url} holds {held:,} studies, not {args.studies:,}: reseeding")
    print(f"seeding {args.database_url} with {args.studies:,} studies through the import service")
    common.recreate_database(args.database_url)
    common.migrate(args.database_url)
    me = str(Path(__file__).resolve())
    command = [
        common.PYTHON,
        me,
        "--phase",
        "seed",
        "--studies",
        str(args.studies),
        "--seed",
        str(args.seed),
        "--database-url",
        args.database_url,
    ]
    # Progress lines pass through as they come; the last line is the JSON result.
    lines = []
    with subprocess.Popen(
        command,
        cwd=common.REPO_ROOT,
        env=common.django_env(args.database_url),
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        for line in child.stdout:
            lines.append(line.rstrip("\n"))
            if not line.startswith("{"):
                print(line, end="", flush=True)
    if child.returncode != 0 or not lines:
        raise SystemExit(f"seeding failed (exit {child.returncode})")
    result = json.loads(lines[-1])
    print(
        f"seeded {result['created']:,} studies in {result['seconds']:.0f} s "
        f"({result['created'] / result['seconds']:,.0f}/s, peak RSS {result['peak_rss_mb']:.0f} MB)"
    )
    import psycopg

    # A production database has planner statistics; a freshly loaded one has none yet.
    with psycopg.connect(args.database_url, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")


# -- server --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def start_server(database_url: str, port: int) -> subprocess.Popen:
    env = common.django_env(
        database_url,
        DJANGO_ALLOWED_HOSTS=HOST,
        EVIDB_ANON_THROTTLE_RATE="1000000/minute",
    )
    gunicorn = str(Path(common.PYTHON).with_name("gunicorn"))
    # The server's own log (a warning per 404, tracebacks) goes to a file, not the report.
    log = SERVER_LOG.open("w")
    server = subprocess.Popen(
        [
            gunicorn,
            "config.wsgi:application",
            "--workers",
            "2",
            "--bind",
            f"{HOST}:{port}",
            "--log-level",
            "warning",
        ],
        cwd=common.REPO_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}; see {SERVER_LOG}")
        try:
            status, _ = get(port, f"{LIST_PATH}?page_size=1")
            if status < 500:
                return server
        except OSError:
            pass
        time.sleep(0.3)
    stop_server(server)
    raise SystemExit("gunicorn did not answer within 60 s")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def worker_rss_mb(server: subprocess.Popen) -> list[float]:
    """Resident memory of each gunicorn worker (children of the master we started)."""
    sizes = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(server.pid) and "VmRSS" in fields:
            sizes.append(int(fields["VmRSS"].split()[0]) / 1024)
    return sorted(sizes)


# -- client --------------------------------------------------------------------------------


def get(port: int, path: str, connection: http.client.HTTPConnection | None = None):
    own = connection is None
    connection = connection or http.client.HTTPConnection(HOST, port, timeout=60)
    try:
        connection.request("GET", path, headers={"Accept": "application/json"})
        response = connection.getresponse()
        body = response.read()
        return response.status, body
    finally:
        if own:
            connection.close()


def drive(port: int, scenario: Scenario, *, concurrency: int, requests: int) -> Run:
    """Send `requests` requests from `concurrency` threads, each on a keep-alive connection."""
    run = Run()
    counter = iter(range(requests))
    lock = threading.Lock()

    def worker() -> None:
        connection = http.client.HTTPConnection(HOST, port, timeout=120)
        try:
            while True:
                with lock:
                    index = next(counter, None)
                if index is None:
                    return
                path = scenario.paths[index % len(scenario.paths)]
                started = time.perf_counter()
                try:
                    status, body = get(port, path, connection)
                except (OSError, http.client.HTTPException) as exc:
                    connection.close()
                    status, body = 0, str(exc).encode()
                elapsed = time.perf_counter() - started
                with lock:
                    if status == 200:
                        run.latencies.append(elapsed)
                    elif len(run.errors) < 3:
                        excerpt = " ".join(body.decode("utf-8", "replace").split())[:160]
                        run.errors.append(f"HTTP {status} {path}: {excerpt}")
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run.seconds = time.perf_counter() - started
    return run


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def export_once(port: int, path: str) -> dict:
    """Stream one export, counting bytes and records client-side."""
    connection = http.client.HTTPConnection(HOST, port, timeout=300)
    started = time.perf_counter()
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        first_byte = None
        size = records = 0
        tail = b""
        while True:
            chunk = response.read(64 * 1024)
            if not chunk:
                break
            if first_byte is None:
                first_byte = time.perf_counter() - started
            size += len(chunk)
            window = tail + chunk
            records += window.count(b"\nER  - ") + (window.startswith(b"ER  - ") and not tail)
            tail = window[-6:]
        return {
            "status": response.status,
            "content_type": response.getheader("Content-Type", ""),
            "seconds": time.perf_counter() - started,
            "first_byte": first_byte or 0.0,
            "bytes": size,
            "records": records,
        }
    finally:
        connection.close()


# -- in-process figures: the floor and queries per request -------------------------------------


def in_process_figures(database_url: str, paths: dict[str, str], list_design: str) -> dict:
    os.environ["DJANGO_ALLOWED_HOSTS"] = f"{HOST},testserver"
    common.setup_django(database_url)
    # A 4xx is reported in the table; no log line per request, no collectstatic warning.
    logging.getLogger("django.request").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message="No directory at")
    import orjson
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    sql = (
        "SELECT s.id, s.pmid, s.doi, s.pmcid, s.title, s.pub_year, j.title AS journal, "
        "a.design, s.review_status, a.certainty "
        "FROM evidence_study s "
        "LEFT JOIN evidence_journal j ON j.id = s.journal_id "
        "JOIN evidence_appraisal a ON a.study_id = s.id "
        "WHERE a.design = %s AND s.pub_year >= %s "
        "ORDER BY s.pub_year DESC, s.id DESC LIMIT %s"
    )
    timings = []
    body = b""
    with connection.cursor() as cursor:
        for _ in range(200):
            started = time.perf_counter()
            cursor.execute(sql, [list_design, LIST_QUERY["year_min"], LIST_QUERY["page_size"]])
            columns = [column.name for column in cursor.description]
            rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
            body = orjson.dumps({"results": rows})
            timings.append(time.perf_counter() - started)
    floor = {"p50": percentile(timings, 0.5), "p95": percentile(timings, 0.95), "bytes": len(body)}

    client = Client(raise_request_exception=False)
    queries = {}
    for name, path in paths.items():
        try:
            with CaptureQueriesContext(connection) as captured:
                response = client.get(path)
                if getattr(response, "streaming", False):
                    for _ in response.streaming_content:
                        pass
        except Exception as exc:  # the figures already printed stay useful
            queries[name] = (f"error: {type(exc).__name__}: {exc}"[:120], 0)
            continue
        queries[name] = (f"HTTP {response.status_code}", len(captured.captured_queries))
    return {"floor": floor, "queries": queries}


# -- driver --------------------------------------------------------------------------------


def pick_ids(database_url: str, count: int, seed: int) -> list[int]:
    import psycopg

    with psycopg.connect(database_url) as connection:
        ids = [row[0] for row in connection.execute("SELECT id FROM evidence_study")]
    return random.Random(seed).sample(ids, min(count, len(ids)))


def export_year_range(database_url: str) -> tuple[int, int, int]:
    """The run of publication years whose studies number closest to 10,000."""
    import psycopg

    with psycopg.connect(database_url) as connection:
        per_year = dict(
            connection.execute(
                "SELECT pub_year, count(*) FROM evidence_study "
                "WHERE pub_year IS NOT NULL GROUP BY pub_year"
            ).fetchall()
        )
    years = sorted(per_year)
    best = (years[-1], years[-1], per_year[years[-1]])
    for first_index, first in enumerate(years):
        total = 0
        for last in years[first_index:]:
            total += per_year[last]
            if abs(total - EXPORT_TARGET_RECORDS) < abs(best[2] - EXPORT_TARGET_RECORDS):
                best = (first, last, total)
            if total > EXPORT_TARGET_RECORDS:
                break
    return best


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--studies", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--reseed", action="store_true", help="Seed even if already seeded.")
    parser.add_argument(
        "--requests", type=int, default=300, help="Requests per list/detail scenario."
    )
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--phase", choices=["seed"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase == "seed":
        result = phase_seed(studies=args.studies, seed=args.seed, database_url=args.database_url)
        print(json.dumps(result))
        return
    if not 1 <= args.concurrency <= 32 or not 1 <= args.requests <= 100_000:
        parser.error("--concurrency 1..32, --requests 1..100000")

    from bench.generate import BROAD_TERM, SELECTIVE_TERM

    ensure_seeded(args)
    ids = pick_ids(args.database_url, args.requests, args.seed)
    first_year, last_year, export_count = export_year_range(args.database_url)
    export_path = (
        LIST_PATH
        + "?"
        + urlencode({"year_min": first_year, "year_max": last_year, "format": "ris"})
    )

    def url(**query) -> str:
        return f"{LIST_PATH}?{urlencode(query)}"

    light = max(20, args.requests // 3)
    scenarios = [
        Scenario(
            "list: design + year, 50",
            [url(design=design, **LIST_QUERY) for design in DESIGNS],
            args.requests,
            p50_ms=20,
            p95_ms=50,
            rate=75,
        ),
        Scenario(
            "detail (random ids)",
            [f"{LIST_PATH}{study_id}/" for study_id in ids],
            args.requests,
            p50_ms=10,
            rate=150,
        ),
        Scenario(
            f"search selective ({SELECTIVE_TERM})",
            [url(q=SELECTIVE_TERM, page_size=50)],
            light,
            p95_ms=50,
        ),
        Scenario(
            f"search broad ({BROAD_TERM}, ~1/3)",
            [url(q=BROAD_TERM, page_size=50)],
            light,
            p95_ms=300,
        ),
        Scenario("group_by design x pub_year", [url(**GROUP_BY_QUERY)], light, p95_ms=200),
    ]

    port = free_port()
    print(f"gunicorn: 2 workers on {HOST}:{port} (log: {SERVER_LOG})")
    server = start_server(args.database_url, port)
    try:
        for scenario in scenarios:
            # Warm-up outside the figures: enough requests for both workers to have
            # loaded their code and opened their database connection.
            for path in scenario.paths[:4] * 2:
                get(port, path)
            scenario.serial = drive(
                port, scenario, concurrency=1, requests=max(10, scenario.requests // 2)
            )
            scenario.loaded = drive(
                port, scenario, concurrency=args.concurrency, requests=scenario.requests
            )
        rss_before = worker_rss_mb(server)
        exports = [export_once(port, export_path) for _ in range(2)]
        rss_after = worker_rss_mb(server)
    finally:
        stop_server(server)

    figures = in_process_figures(
        args.database_url,
        {
            "list": scenarios[0].paths[0],
            "detail": scenarios[1].paths[0],
            "search selective": scenarios[2].paths[0],
            "search broad": scenarios[3].paths[0],
            "group_by": scenarios[4].paths[0],
            "RIS export": export_path,
        },
        DESIGNS[0],
    )
    report(args, scenarios, exports, export_count, rss_before, rss_after, figures)


def report(args, scenarios, exports, export_count, rss_before, rss_after, figures) -> None:
    ok = common.verdict
    print()
    print(
        f"{args.studies:,} studies; latency in ms, client-side. p50/p95 with one client; "
        f"then {args.concurrency} clients (keep-alive) for req/s and latency under load"
    )
    print(
        f"  {'scenario':<34} {'p50':>7} {'p95':>7} {'req/s':>7} {'p50@N':>7} {'p95@N':>7}"
        "  target (issue 4)"
    )
    for s in scenarios:
        if not s.serial.latencies or not s.loaded.latencies:
            errors = (s.serial.errors + s.loaded.errors)[:1]
            print(f"  {s.name:<34} no successful request: {errors}")
            continue
        p50, p95, rate = s.serial.p(0.5), s.serial.p(0.95), s.loaded.rate
        targets = []
        if s.p50_ms is not None:
            targets.append(f"{ok(p50 <= s.p50_ms)} p50 <= {s.p50_ms:g}")
        if s.p95_ms is not None:
            targets.append(f"{ok(p95 <= s.p95_ms)} p95 <= {s.p95_ms:g}")
        if s.rate is not None:
            targets.append(f"{ok(rate >= s.rate)} >= {s.rate:g} req/s")
        print(
            f"  {s.name:<34} {p50:>7.1f} {p95:>7.1f} {rate:>7.1f} {s.loaded.p(0.5):>7.1f} "
            f"{s.loaded.p(0.95):>7.1f}  " + "; ".join(targets)
        )
        for error in (s.serial.errors + s.loaded.errors)[:2]:
            print(f"      error: {error}")

    print()
    print(f"RIS export of {export_count:,} studies (two runs):")
    for index, export in enumerate(exports, start=1):
        if export["status"] != 200:
            print(f"  run {index}: HTTP {export['status']}")
            continue
        print(
            f"  run {index}: {export['seconds']:.2f} s ({ok(export['seconds'] <= 3)} <= 3 s), "
            f"first byte {export['first_byte'] * 1000:.0f} ms, {export['bytes'] / 1e6:.1f} MB, "
            f"{export['records']:,} records, {export['content_type']}"
        )
    before = ", ".join(f"{size:.0f}" for size in rss_before)
    after = ", ".join(f"{size:.0f}" for size in rss_after)
    growth = max(rss_after, default=0) - max(rss_before, default=0)
    print(f"  gunicorn worker RSS MB before [{before}], after [{after}]: max grew {growth:.0f} MB")

    floor = figures["floor"]
    api_p50 = scenarios[0].serial.p(0.5) / 1000 if scenarios[0].serial.latencies else 0.0
    ratio = api_p50 / floor["p50"] if floor["p50"] else 0.0
    print()
    print(
        f"floor (one raw SQL query + orjson, in-process): p50 {floor['p50'] * 1000:.1f} ms, "
        f"p95 {floor['p95'] * 1000:.1f} ms, {floor['bytes']:,} bytes"
    )
    if ratio:
        print(f"  list API p50 / floor p50: {ratio:.1f}x  ({ok(ratio <= 2)} aim <= 2x)")
    print()
    print("queries per request (in-process test client, one request each):")
    for name, (status, count) in figures["queries"].items():
        print(f"  {name:<20} {status}  {count} queries")


if __name__ == "__main__":
    main()
