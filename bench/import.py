"""Import benchmark: generated PubMed XML into an empty PostgreSQL database.

    python bench/import.py [--records 30000] [--seed 1]
        [--database-url postgres://postgres@127.0.0.1:5432/evidb_bench]

Each run drops, creates and migrates the database, generates the file (or reuses the
one already generated for the same --records and --seed), then runs four phases, each
in its own process so its memory peak is its own:

1. parse only: ``evidence.importers.pubmed_xml.parse`` over the file;
2. import: ``evidence.services.study_import`` into the empty database (every table,
   the citation graph included);
3. re-import of the same file (every record unchanged);
4. import of a revised copy of the file (every record changed, so updated).

It prints records per second for each, import/parse ratio, re-import speed-up, peak RSS
of each phase and the row counts of the main tables, with issue 3's targets beside them.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from bench.generate import GENERATOR_VERSION

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/evidb_bench"
TARGET_RATE = 600  # records/s, whole import
TARGET_RATIO = 0.75  # import rate / parse-only rate
TARGET_PEAK_MB = 500
TARGET_REIMPORT_SPEEDUP = 3.0
TABLES = [
    "evidence_study",
    "evidence_journal",
    "evidence_author",
    "evidence_authorship",
    "evidence_meshdescriptor",
    "evidence_studymeshheading",
    "evidence_publicationtype",
    "evidence_study_publication_types",
    "evidence_work",
    "evidence_citation",
    "evidence_importrun",
]


# -- phases (run in child processes) -------------------------------------------------------


def phase_parse(path: Path, *, trace: bool) -> dict:
    # No Django: the parser is pure and its figure should be the parser's alone.
    from evidence.importers import pubmed_xml
    from evidence.importers.records import StudyRecord

    _start_trace(trace)
    started = time.perf_counter()
    records = references = 0
    with path.open("rb") as stream:
        for item in pubmed_xml.parse(stream, source_name=path.name):
            if isinstance(item, StudyRecord):
                records += 1
                references += len(item.references)
    seconds = time.perf_counter() - started
    return {"records": records, "references": references, "seconds": seconds, **_memory(trace)}


def phase_import(path: Path, *, database_url: str, trace: bool) -> dict:
    common.setup_django(database_url)
    from evidence.services import study_import

    gc.collect()
    _start_trace(trace)
    started = time.perf_counter()
    with path.open("rb") as stream:
        run = study_import(stream=stream, source_name=path.name, format="pubmed-xml")
    seconds = time.perf_counter() - started
    return {
        "records": run.records_seen,
        "seconds": seconds,
        "status": run.status,
        "created": run.created,
        "updated": run.updated,
        "unchanged": run.unchanged,
        "failed": run.failed,
        "messages": run.messages[:3],
        **_memory(trace),
    }


def _start_trace(trace: bool) -> None:
    if trace:
        import tracemalloc

        tracemalloc.start()


def _memory(trace: bool) -> dict:
    result = {"peak_rss_mb": common.peak_rss_mb(), "parser_rss_mb": common.children_peak_rss_mb()}
    if trace:
        import tracemalloc

        result["traced_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
    return result


# -- driver --------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--file", type=Path, help="XML file to use (default: generated in /tmp).")
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="Also report Python's traced allocation peak (slows every phase ~2x).",
    )
    parser.add_argument("--phase", choices=["parse", "import"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.phase == "parse":
        print(json.dumps(phase_parse(args.file, trace=args.tracemalloc)))
        return
    if args.phase == "import":
        result = phase_import(args.file, database_url=args.database_url, trace=args.tracemalloc)
        print(json.dumps(result, default=str))
        return

    path = args.file or Path(
        f"/tmp/evidb-bench-{args.records}-seed{args.seed}-v{GENERATOR_VERSION}.xml"
    )
    if args.file is None:
        _generate(path, records=args.records, seed=args.seed)

    print(f"database {args.database_url}: drop, create, migrate")
    common.recreate_database(args.database_url)
    common.migrate(args.database_url)

    trace = ["--tracemalloc"] if args.tracemalloc else []
    me = str(Path(__file__).resolve())
    env = common.django_env(args.database_url)
    print("phase 1/4: parse only ...", flush=True)
    parsed = common.run_child([me, "--phase", "parse", "--file", str(path), *trace], env=env)
    import_args = [me, "--phase", "import", "--file", str(path), "--database-url"]
    print("phase 2/4: import into the empty database ...", flush=True)
    first = common.run_child([*import_args, args.database_url, *trace], env=env)
    _check_run("import", first)
    print("phase 3/4: re-import of the same file ...", flush=True)
    again = common.run_child([*import_args, args.database_url, *trace], env=env)
    _check_run("re-import", again)
    counts = common.table_counts(args.database_url, TABLES)
    resolved = _resolved_citations(args.database_url)
    revised_path = _revised(path)
    print("phase 4/4: import of a revised file (every article's abstract changed) ...")
    revised_args = [me, "--phase", "import", "--file", str(revised_path), "--database-url"]
    revised = common.run_child([*revised_args, args.database_url, *trace], env=env)
    _check_run("revised import", revised)
    _report(path, parsed, first, again, counts, resolved, revised)


def _revised(path: Path) -> Path:
    """The same articles, each with a sentence added to its abstract's last section, as
    a PubMed update file revises records: every one is read, matched and updated."""
    revised = path.with_name(path.stem + "-revised.xml")
    if not revised.exists() or revised.stat().st_mtime < path.stat().st_mtime:
        partial = revised.with_name(revised.name + ".partial")
        with path.open("rb") as source, partial.open("wb") as target:
            for line in source:
                target.write(
                    line.replace(
                        b"</Abstract>", b"<AbstractText>Revised.</AbstractText></Abstract>"
                    )
                )
        partial.replace(revised)
    return revised


def _generate(path: Path, *, records: int, seed: int) -> None:
    from bench.generate import generate_file

    if path.exists():
        print(f"reusing {path} ({path.stat().st_size / 1e6:.0f} MB, same records and seed)")
        return
    started = time.perf_counter()
    partial = path.with_name(path.name + ".partial")
    generate_file(partial, records=records, seed=seed)
    partial.replace(path)
    seconds = time.perf_counter() - started
    size = path.stat().st_size / 1e6
    print(f"generated {records} records in {seconds:.1f} s: {path} ({size:.0f} MB)")


def _check_run(name: str, result: dict) -> None:
    if result["status"] != "succeeded":
        print(f"{name} did not succeed: {result['status']}; first messages:", file=sys.stderr)
        for message in result["messages"]:
            print(f"  {message}", file=sys.stderr)
        raise SystemExit(1)


def _resolved_citations(database_url: str) -> int:
    import psycopg

    with psycopg.connect(database_url) as connection:
        return connection.execute(
            "SELECT count(*) FROM evidence_citation c "
            "JOIN evidence_work w ON w.id = c.cited_id WHERE w.study_id IS NOT NULL"
        ).fetchone()[0]


def _report(path, parsed, first, again, counts, resolved, revised) -> None:
    def rate(result: dict) -> float:
        return result["records"] / result["seconds"] if result["seconds"] else 0.0

    parse_rate, import_rate, reimport_rate = rate(parsed), rate(first), rate(again)
    ratio = import_rate / parse_rate if parse_rate else 0.0
    speedup = first["seconds"] / again["seconds"] if again["seconds"] else 0.0
    # An import's parser process runs beside it: both peaks count, as if at once.
    peak = max(
        result["peak_rss_mb"] + result["parser_rss_mb"] for result in (first, again, revised)
    )
    ok = common.verdict
    print()
    print(f"file: {path} ({parsed['records']} records, {parsed['references']} references)")
    print("figure                          measured  target (issue 3)")
    common.print_rows(
        [
            ("parse only", f"{parse_rate:,.0f} rec/s", f"({parsed['seconds']:.1f} s)"),
            (
                "import (empty database)",
                f"{import_rate:,.0f} rec/s",
                f"{ok(import_rate >= TARGET_RATE)} >= {TARGET_RATE} rec/s "
                f"({first['seconds']:.1f} s; created {first['created']})",
            ),
            (
                "import / parse",
                f"{ratio:.2f}x",
                f"{ok(ratio >= TARGET_RATIO)} >= {TARGET_RATIO}x",
            ),
            (
                "re-import (same file)",
                f"{reimport_rate:,.0f} rec/s",
                f"({again['seconds']:.1f} s; unchanged {again['unchanged']}, "
                f"updated {again['updated']}, created {again['created']})",
            ),
            (
                "re-import speed-up",
                f"{speedup:.1f}x",
                f"{ok(speedup >= TARGET_REIMPORT_SPEEDUP)} >= {TARGET_REIMPORT_SPEEDUP:.0f}x",
            ),
            (
                "import of a revised file",
                f"{rate(revised):,.0f} rec/s",
                f"({revised['seconds']:.1f} s; updated {revised['updated']}, "
                f"unchanged {revised['unchanged']}, created {revised['created']})",
            ),
            ("peak RSS, parse", f"{parsed['peak_rss_mb']:.0f} MB", ""),
            ("peak RSS, import", f"{first['peak_rss_mb']:.0f} MB", ""),
            ("  its parser process", f"{first['parser_rss_mb']:.0f} MB", ""),
            ("peak RSS, re-import", f"{again['peak_rss_mb']:.0f} MB", ""),
            ("  its parser process", f"{again['parser_rss_mb']:.0f} MB", ""),
            (
                "peak RSS, worst import (with its parser)",
                f"{peak:.0f} MB",
                f"{ok(peak < TARGET_PEAK_MB)} < {TARGET_PEAK_MB} MB",
            ),
            *(
                (f"tracemalloc peak, {name}", f"{result['traced_peak_mb']:.0f} MB", "")
                for name, result in (("parse", parsed), ("import", first), ("re-import", again))
                if "traced_peak_mb" in result
            ),
        ]
    )
    print()
    print("rows after both imports:")
    common.print_rows([(table, f"{count:,}", "") for table, count in counts.items()])
    print(f"  citations resolved to a study in the file: {resolved:,}")


if __name__ == "__main__":
    main()
