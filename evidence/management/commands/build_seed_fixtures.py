"""python manage.py build_seed_fixtures — regenerate fixtures/seed.json from the seeds.

The seed documents in fixtures/seeds/ go through the import service, exactly as
``import_records`` would import them, and the resulting rows are written as a Django
fixture; then the transaction is rolled back. So ``loaddata seed`` and
``import_records fixtures/seeds/*`` give the same records (a test holds us to it).
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core import serializers
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from evidence import models
from evidence.services import study_import

SEEDS_DIR = Path(settings.BASE_DIR) / "fixtures" / "seeds"
FIXTURE_PATH = Path(settings.BASE_DIR) / "fixtures" / "seed.json"
# Parents before children, so loaddata never meets a dangling key.
FIXTURE_MODELS = (
    models.Journal,
    models.Author,
    models.PublicationType,
    models.MeshDescriptor,
    models.Concept,
    models.Study,
    models.Authorship,
    models.StudyMeshHeading,
    models.Appraisal,
    models.EffectSize,
    models.Limitation,
    models.ResearchGap,
    models.Work,
    models.Citation,
)
# Import bookkeeping differs run to run and says nothing about the records.
VOLATILE_FIELDS = {"created_at", "updated_at", "imported_at", "import_run"}


class _RollBack(Exception):
    pass


def seed_files() -> list[Path]:
    return sorted(SEEDS_DIR.glob("*.txt"))


def import_seeds() -> None:
    for path in seed_files():
        with path.open("rb") as stream:
            run = study_import(stream=stream, source_name=f"fixtures/seeds/{path.name}")
        if run.status != models.ImportStatus.SUCCEEDED:
            raise CommandError(f"{path.name}: {run.messages}")


def serialize_seed_rows() -> str:
    objects = []
    for model in FIXTURE_MODELS:
        objects.extend(model.objects.order_by("pk"))
    text = serializers.serialize("json", objects, indent=1, ensure_ascii=False)
    import json

    rows = json.loads(text)
    for row in rows:
        for name in VOLATILE_FIELDS & set(row["fields"]):
            row["fields"][name] = (
                None if name in {"import_run", "imported_at"} else ("2026-01-01T00:00:00Z")
            )
    return json.dumps(rows, indent=1, ensure_ascii=False) + "\n"


class Command(BaseCommand):
    help = "Rebuild fixtures/seed.json by importing fixtures/seeds/* (needs an empty database)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", type=Path, default=FIXTURE_PATH)

    def handle(self, *args, output: Path, **options) -> None:
        if models.Study.objects.exists():
            raise CommandError(
                "the database already holds studies; run against an empty one, e.g. "
                "DATABASE_URL=sqlite:////tmp/seed.sqlite3 (migrate it first)"
            )
        try:
            with transaction.atomic():
                import_seeds()
                output.write_text(serialize_seed_rows(), encoding="utf-8")
                raise _RollBack
        except _RollBack:
            pass
        self.stdout.write(self.style.SUCCESS(f"wrote {output}"))
