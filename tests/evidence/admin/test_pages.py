"""Every registered evidence model: changelist, add and change pages render for a superuser."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from evidence import models
from tests import factories

pytestmark = pytest.mark.django_db


def _make(model_name: str):
    study = factories.StudyFactory()
    makers = {
        "study": lambda: study,
        "journal": lambda: study.journal,
        "appraisal": lambda: factories.AppraisalFactory(study=study),
        "author": factories.AuthorFactory,
        "authorship": lambda: factories.AuthorshipFactory(study=study),
        "meshdescriptor": factories.MeshDescriptorFactory,
        "studymeshheading": lambda: factories.StudyMeshHeadingFactory(study=study),
        "publicationtype": factories.PublicationTypeFactory,
        "concept": factories.ConceptFactory,
        "effectsize": lambda: factories.EffectSizeFactory(study=study),
        "limitation": lambda: factories.LimitationFactory(study=study),
        "researchgap": lambda: factories.ResearchGapFactory(study=study),
        "work": lambda: factories.WorkFactory(study=study, pmid=study.pmid),
        "citation": factories.CitationFactory,
        "importrun": lambda: models.ImportRun.objects.create(
            source_name="refs.ris",
            format="ris",
            status=models.ImportStatus.SUCCEEDED,
            messages=[{"level": "warning", "location": "refs.ris, record 2", "message": "odd"}],
        ),
    }
    return makers[model_name]()


EVIDENCE_MODELS = sorted(
    model._meta.model_name
    for model in apps.get_app_config("evidence").get_models()
    if not model._meta.model_name.startswith("historical")
)


def test_every_evidence_model_is_registered():
    registered = {
        model._meta.model_name
        for model in admin.site._registry
        if model._meta.app_label == "evidence"
    }
    assert registered == set(EVIDENCE_MODELS)


@pytest.mark.parametrize("model_name", EVIDENCE_MODELS)
def test_changelist_renders(admin_client, model_name):
    obj = _make(model_name)
    response = admin_client.get(reverse(f"admin:evidence_{model_name}_changelist"))
    assert response.status_code == 200
    assert obj in response.context["cl"].result_list


SEARCHABLE = [
    name
    for name in EVIDENCE_MODELS
    if admin.site._registry[apps.get_model("evidence", name)].search_fields
]


@pytest.mark.parametrize("model_name", SEARCHABLE)
def test_changelist_search_renders(admin_client, model_name):
    _make(model_name)
    response = admin_client.get(
        reverse(f"admin:evidence_{model_name}_changelist"), {"q": "osteonecrosis"}
    )
    assert response.status_code == 200
    assert response.context["cl"].query == "osteonecrosis"


@pytest.mark.parametrize("model_name", [name for name in EVIDENCE_MODELS if name != "importrun"])
def test_add_page_renders(admin_client, model_name):
    response = admin_client.get(reverse(f"admin:evidence_{model_name}_add"))
    assert response.status_code == 200
    assert response.context["adminform"].form.instance.pk is None


def test_importrun_add_page_is_the_upload_page(admin_client):
    response = admin_client.get(reverse("admin:evidence_importrun_add"), follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("admin:evidence_importrun_upload")
    assert "Import citation file" in response.text


@pytest.mark.parametrize("model_name", EVIDENCE_MODELS)
def test_change_page_renders(admin_client, model_name):
    obj = _make(model_name)
    response = admin_client.get(reverse(f"admin:evidence_{model_name}_change", args=[obj.pk]))
    assert response.status_code == 200
    assert response.context["original"] == obj


@pytest.mark.parametrize(
    "model_name", ["study", "appraisal", "effectsize", "limitation", "researchgap"]
)
def test_history_page_renders(admin_client, model_name):
    obj = _make(model_name)
    response = admin_client.get(reverse(f"admin:evidence_{model_name}_history", args=[obj.pk]))
    assert response.status_code == 200
    # simple_history's view, not Django's LogEntry list: it lists the historical rows.
    assert len(response.context["page_obj"].object_list) == 1


def test_study_fieldsets_cover_every_editable_field(admin_client):
    """A field the lead adds to Study must be placed on the page, not silently missing."""
    model_admin = admin.site._registry[models.Study]
    shown = set()
    for _, options in model_admin.fieldsets:
        for line in options["fields"]:
            shown.update(line if isinstance(line, tuple) else [line])
    editable = {
        field.name
        for field in models.Study._meta.get_fields()
        if getattr(field, "editable", False)
        and not field.auto_created
        and field.concrete
        and field.name != "import_run"
    }
    assert editable - shown == set()


@pytest.mark.parametrize(
    ("model_name", "factory", "term", "expected"),
    [
        (
            "journal",
            lambda: factories.JournalFactory(title="Lancet Rheumatology"),
            "rheum",
            "J Evid",
        ),
        ("author", lambda: factories.AuthorFactory(last_name="Smithson"), "smith", "Smithson A"),
        ("concept", lambda: factories.ConceptFactory(name="HIF-1α/VEGF"), "hif", "HIF-1α/VEGF"),
        (
            "meshdescriptor",
            lambda: factories.MeshDescriptorFactory(name="Femur Head Necrosis"),
            "femur",
            "Femur Head Necrosis",
        ),
        (
            "work",
            lambda: factories.WorkFactory(title="Core decompression trial"),
            "decompression",
            "Core decompression trial",
        ),
        (
            "study",
            lambda: factories.StudyFactory(title="Stem cells for osteonecrosis"),
            "stem",
            "Stem cells",
        ),
    ],
)
def test_autocomplete_sources(admin_client, model_name, factory, term, expected):
    obj = factory()
    source = {
        "journal": ("study", "journal"),
        "author": ("authorship", "author"),
        "concept": ("appraisal", "concepts"),
        "meshdescriptor": ("studymeshheading", "descriptor"),
        "work": ("citation", "cited"),
        "study": ("work", "study"),
    }[model_name]
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "evidence", "model_name": source[0], "field_name": source[1], "term": term},
    )
    assert response.status_code == 200
    results = response.json()["results"]
    assert [result["id"] for result in results] == [str(obj.pk)]
    assert expected in results[0]["text"]


def test_study_history_version_page_renders(admin_client):
    study = factories.StudyFactory(title="First title")
    study.title = "Second title"
    study.save()
    first = study.history.earliest()
    url = reverse("admin:evidence_study_simple_history", args=[study.pk, first.history_id])
    response = admin_client.get(url)
    assert response.status_code == 200
    assert response.context["adminform"].form["title"].value() == "First title"


@pytest.mark.parametrize("term", ["10.1234/WORK.X", "PMID: 777", "PMC42"])
def test_work_search_by_identifier_is_exact(admin_client, term):
    hit = factories.WorkFactory(pmid=777, doi="10.1234/work.x", pmcid="PMC42")
    factories.WorkFactory(title="Cites PMID 777 and 10.1234/work.x in its title")
    response = admin_client.get(reverse("admin:evidence_work_changelist"), {"q": term})
    assert list(response.context["cl"].result_list) == [hit]
