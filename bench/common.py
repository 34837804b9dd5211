"""Helpers the benchmark scripts share: databases, Django in a child process, output."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO_ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
# Production-like settings for the children: DEBUG off (no query log kept in memory).
BENCH_SECRET_KEY = "bench-only-secret-key-not-for-any-deployment-0123456789abcdef"


def django_env(database_url: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=BENCH_SECRET_KEY,
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_LOG_LEVEL="WARNING",
        PYTHONPATH=str(REPO_ROOT),
    )
    env.update(extra)
    return env


def setup_django(database_url: str) -> None:
    """In a child process: configure Django against ``database_url`` and load it."""
    os.environ.update(django_env(database_url))
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    import django

    django.setup()


def _admin_url(database_url: str) -> tuple[str, str]:
    """(URL of the server's 'postgres' maintenance database, name of the target)."""
    parts = urlsplit(database_url)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise SystemExit(f"--database-url must be a PostgreSQL URL, not {database_url!r}")
    name = parts.path.lstrip("/")
    if not name or not name.replace("_", "").isalnum():
        raise SystemExit(f"database name {name!r}: use letters, digits and underscores")
    return urlunsplit(parts._replace(path="/postgres")), name


def recreate_database(database_url: str) -> None:
    import psycopg

    admin, name = _admin_url(database_url)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def database_exists(database_url: str) -> bool:
    import psycopg

    admin, name = _admin_url(database_url)
    with psycopg.connect(admin, autocommit=True) as connection:
        row = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    return row is not None


def migrate(database_url: str) -> None:
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=REPO_ROOT,
        env=django_env(database_url),
        check=True,
    )


def table_counts(database_url: str, tables: list[str]) -> dict[str, int]:
    import psycopg

    counts = {}
    with psycopg.connect(database_url) as connection:
        for table in tables:
            # Table names come from this script's own list, never from input.
            counts[table] = connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    return counts


def peak_rss_mb() -> float:
    """This process's peak resident memory (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def children_peak_rss_mb() -> float:
    """The largest peak of this process's finished children (e.g. an import's parser
    process); 0 when it had none."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def run_child(args: list[str], *, env: dict[str, str] | None = None) -> dict:
    """Run a benchmark phase in its own process, so memory peaks are per phase.

    The child prints one JSON object as its last line of standard output.
    """
    completed = subprocess.run(
        [PYTHON, *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True
    )
    if completed.returncode != 0:
        sys.stderr.write(completed.stdout + completed.stderr)
        raise SystemExit(f"phase failed: {' '.join(args)} (exit {completed.returncode})")
    lines = [line for line in completed.stdout.splitlines() if line.startswith("{")]
    if not lines:
        sys.stderr.write(completed.stdout + completed.stderr)
        raise SystemExit(f"phase printed no result: {' '.join(args)}")
    return json.loads(lines[-1])


def verdict(ok: bool) -> str:
    return "ok  " if ok else "MISS"


def print_rows(rows: list[tuple[str, str, str]]) -> None:
    """Three columns: what, measured, target (with ok/MISS)."""
    width = max(len(row[0]) for row in rows)
    measured_width = max(len(row[1]) for row in rows)
    for name, measured, target in rows:
        print(f"  {name:<{width}}  {measured:>{measured_width}}  {target}")
