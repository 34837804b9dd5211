"""factory_boy factories for the evidence models (tests build only what they need)."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from evidence import models


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    password = factory.django.Password("correct horse battery staple")


class JournalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Journal

    title = factory.Sequence(lambda n: f"Journal of Evidence {n}")
    iso_abbreviation = factory.Sequence(lambda n: f"J Evid {n}")
    issn = factory.Sequence(lambda n: f"{1000 + n:04d}-{(n * 7) % 1000:03d}X")
    key = factory.LazyAttribute(lambda j: f"issn:{j.issn}")


class StudyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Study

    pmid = factory.Sequence(lambda n: 30_000_000 + n)
    doi = factory.Sequence(lambda n: f"10.1000/evidb.{n}")
    title = factory.Sequence(lambda n: f"Effect of intervention {n} on osteonecrosis outcomes")
    abstract = "Background and methods of a study about osteonecrosis of the femoral head."
    journal = factory.SubFactory(JournalFactory)
    pub_year = 2020
    pub_date_precision = "year"


class AppraisalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Appraisal

    study = factory.SubFactory(StudyFactory)
    design = models.StudyDesign.RCT


class AuthorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Author

    last_name = factory.Sequence(lambda n: f"Author{n}")
    fore_name = "Ada"
    initials = "A"


class AuthorshipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Authorship

    study = factory.SubFactory(StudyFactory)
    author = factory.SubFactory(AuthorFactory)
    position = factory.Sequence(lambda n: n + 1)
    last_name = factory.SelfAttribute("author.last_name")
    fore_name = factory.SelfAttribute("author.fore_name")
    initials = factory.SelfAttribute("author.initials")
    affiliations = factory.LazyFunction(lambda: ["Department of Orthopaedics, Example University"])


class MeshDescriptorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.MeshDescriptor
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Descriptor {n}")
    ui = factory.Sequence(lambda n: f"D{n:06d}")


class StudyMeshHeadingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.StudyMeshHeading

    study = factory.SubFactory(StudyFactory)
    descriptor = factory.SubFactory(MeshDescriptorFactory)


class PublicationTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.PublicationType
        django_get_or_create = ("name",)

    name = "Journal Article"
    ui = "D016428"


class ConceptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Concept
        django_get_or_create = ("kind", "name")

    name = factory.Sequence(lambda n: f"Pathway {n}")
    kind = models.ConceptKind.MECHANISM


class EffectSizeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.EffectSize

    study = factory.SubFactory(StudyFactory)
    outcome = "Collapse of the femoral head"
    measure = models.EffectMeasure.RISK_RATIO
    value = 0.6
    ci_lower = 0.4
    ci_upper = 0.9


class LimitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Limitation

    study = factory.SubFactory(StudyFactory)
    category = models.LimitationCategory.SAMPLE_SIZE
    description = "Small sample from a single centre."


class ResearchGapFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.ResearchGap

    study = factory.SubFactory(StudyFactory)
    category = models.ResearchGapCategory.MECHANISM
    description = "Interaction between pathological axes is unexplored."
    future_direction = "Study the axes jointly in multi-omics designs."


class WorkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Work

    pmid = factory.Sequence(lambda n: 20_000_000 + n)
    title = factory.Sequence(lambda n: f"Cited work {n}")
    year = 2015


class CitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Citation

    citing = factory.SubFactory(WorkFactory)
    cited = factory.SubFactory(WorkFactory)
    position = factory.Sequence(lambda n: n + 1)
