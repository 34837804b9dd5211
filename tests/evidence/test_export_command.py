"""manage.py export_records."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from tests import factories

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command("export_records", *args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


def test_default_is_evidb_json_on_stdout():
    study = factories.StudyFactory()
    out, err = run()
    document = json.loads(out)
    assert [item["pmid"] for item in document["studies"]] == [str(study.pmid)]
    assert "Exported 1 study." in err


def test_ris_to_a_file(tmp_path):
    factories.StudyFactory(title="First study")
    factories.StudyFactory(title="Second study")
    target = tmp_path / "export.ris"
    out, err = run("--format", "ris", "--output", str(target))
    text = target.read_text(encoding="utf-8")
    assert text.count("TY  - JOUR") == 2
    assert "TI  - Second study" in text
    assert out == ""
    assert f"Exported 2 studies to {target}." in err
    assert [path.name for path in tmp_path.iterdir()] == ["export.ris"]


def test_pmid_and_review_status_filters():
    wanted = factories.StudyFactory(review_status="reviewed")
    factories.StudyFactory(review_status="draft")
    factories.StudyFactory(review_status="reviewed")
    out, _ = run("--format", "csv", "--pmid", f"{wanted.pmid}, 1", "--review-status", "reviewed")
    lines = out.splitlines()
    assert len(lines) == 2
    assert lines[1].startswith(f"{wanted.pmid},")


def test_bad_pmid_names_the_option():
    with pytest.raises(CommandError, match="--pmid: not a PubMed ID: 'abc'"):
        run("--pmid", "abc")


def test_missing_directory_is_refused(tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        run("--output", str(tmp_path / "nowhere" / "export.bib"))


def test_failed_export_leaves_no_file(tmp_path, monkeypatch):
    factories.StudyFactory()

    def broken(records):
        yield "partial"
        raise RuntimeError("disk full")

    from evidence import exporters

    monkeypatch.setitem(
        exporters.EXPORT_FORMATS,
        "ris",
        exporters.ExportFormat("ris", "text/plain", "ris", broken),
    )
    target = tmp_path / "export.ris"
    with pytest.raises(RuntimeError):
        run("--format", "ris", "--output", str(target))
    assert list(tmp_path.iterdir()) == []
