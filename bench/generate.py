"""Deterministic generator of realistic PubMed XML for the benchmarks.

    python bench/generate.py --records 30000 --seed 1 --output /tmp/bench.xml [--gzip]

Records look like the annual baseline's: a structured abstract in four labelled sections
with some <i>/<sup> markup, about six authors with affiliations (some ORCIDs, now and
then a collective name), about ten MeSH headings with qualifiers and major flags, about
three publication types, keywords, a journal with ISSN / ISO abbreviation / NlmUniqueID,
a PubDate (sometimes a MedlineDate), doi/pmc article ids, grants (in about 40 % of the
records, one to three) and a competing-interests statement (in about half), and about
thirty references.
References point partly at other generated PMIDs, so the citation graph resolves within
the file, and partly at PMIDs or DOIs outside it.

The same seed always gives the same bytes. Records are built as the project's own
``StudyRecord`` (so bench/api.py can add appraisal data to the very same studies) and
written one at a time: memory stays flat for any --records.

Search terms for the API benchmark: ``BROAD_TERM`` is in about a third of the abstracts,
``SELECTIVE_TERM`` in about one in a thousand; neither appears anywhere else.
"""

from __future__ import annotations

import argparse
import gzip
import io
import random
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO
from xml.sax.saxutils import escape

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from evidence.importers.records import (  # noqa: E402
    AbstractSectionRecord,
    AppraisalRecord,
    AuthorRecord,
    ConceptRecord,
    EffectSizeRecord,
    GrantRecord,
    JournalRecord,
    LimitationRecord,
    MeshHeadingRecord,
    MeshQualifierRecord,
    PublicationDate,
    PublicationTypeRecord,
    ReportedValue,
    ReportingState,
    ResearchGapRecord,
    StudyRecord,
    WorkRecord,
)

FIRST_PMID = 30_000_001
BROAD_TERM = "osteonecrosis"
BROAD_SHARE = 1 / 3
SELECTIVE_TERM = "thrombospondin"
SELECTIVE_SHARE = 1 / 1000

DOCTYPE = (
    '<?xml version="1.0" ?>\n'
    '<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" '
    '"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n'
)
# Part of the default file names of the benchmarks: a file made by an older generator is
# not reused. 2: grants and CoiStatement.
GENERATOR_VERSION = 2
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _word_list(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_WORDS = _word_list(
    "patients cohort randomised trial femoral head bone marrow stem cells necrosis hip "
    "collapse decompression vascular supply pain function outcome follow-up cartilage "
    "imaging magnetic resonance radiographic stage progression treatment therapy surgery "
    "arthroplasty corticosteroid alcohol risk factor incidence prevalence mechanism pathway "
    "signalling angiogenesis osteogenesis apoptosis inflammation cytokine expression "
    "mesenchymal stromal graft implant biomechanical load healing regeneration score "
    "analysis significant improvement reduction increase association model rat rabbit "
    "clinical evidence systematic meta-analysis heterogeneity quality bias sample dose "
    "months years baseline endpoint primary secondary adverse events safety efficacy"
)
_MARKUP_PHRASES = ("in vivo", "in vitro", "et al", "per se")
_LAST_NAMES = _word_list(
    "Smith Zhang Wang Li Liu Chen Müller García Martínez Rossi Tanaka Suzuki Kim Park "
    "Nguyen Johnson Brown Jones Miller Davis Wilson Anderson Taylor Thomas Moore Martin "
    "Jackson Thompson White Harris Clark Lewis Robinson Walker Young Allen King Wright "
    "Scott Green Baker Adams Nelson Hill Campbell Mitchell Roberts Carter Phillips Evans "
    "Turner Torres Parker Collins Edwards Stewart Morris Murphy Cook Rogers Morgan Peterson "
    "Cooper Reed Bailey Bell Gómez Kelly Howard Ward Cox Díaz Richardson Wood Watson Brooks "
    "Bennett Gray James Reyes Cruz Hughes Price Myers Long Foster Sanders Ross Morales "
    "Powell Sullivan Russell Ortiz Jenkins Gutiérrez Perry Butler Barnes Fisher Henderson "
    "Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Koch Richter "
    "Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann Lange "
    "Yamamoto Watanabe Ito Nakamura Kobayashi Kato Yoshida Yamada Sasaki Yamaguchi "
    "Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo He Lin Luo Gao Zheng Liang Xie Song Tang Han"
)
_FORE_NAMES = _word_list(
    "James Mary John Patricia Robert Jennifer Michael Linda William Elizabeth David "
    "Barbara Richard Susan Joseph Jessica Thomas Sarah Wei Fang Jing Min Hui Yan Lei Jun "
    "Hiroshi Yuki Kenji Akiko Ji-Hoon Min-Jun Seo-Yeon Anna Maria Jörg Hans Klaus Sofia "
    "Lucía Pablo Marco Giulia Luca François Amélie Lars Ingrid Olga Dmitri Aisha Omar"
)
_INSTITUTIONS = (
    "Department of Orthopaedics, {city} University Hospital, {city}, {country}.",
    "Institute of Regenerative Medicine, University of {city}, {city}, {country}.",
    "Division of Bone Biology, {city} Medical College, {city}, {country}.",
    "Center for Evidence-Based Medicine, {city} Institute of Health, {city}, {country}.",
)
_PLACES = (
    ("Shanghai", "China"),
    ("Beijing", "China"),
    ("Boston", "USA"),
    ("Seattle", "USA"),
    ("Munich", "Germany"),
    ("Berlin", "Germany"),
    ("Tokyo", "Japan"),
    ("Seoul", "Korea"),
    ("Milan", "Italy"),
    ("Madrid", "Spain"),
    ("Lyon", "France"),
    ("Toronto", "Canada"),
)
_JOURNAL_WORDS = (
    *("Bone", "Joint", "Orthopaedic", "Clinical", "Translational", "Regenerative"),
    *("Surgery", "Research", "Medicine", "Biology", "Rheumatology", "Science"),
)
_COLLECTIVES = (
    "ARCO Study Group",
    "Osteonecrosis Research Consortium",
    "EPOCH Collaborators",
    "Nordic Hip Registry Group",
)
_QUALIFIERS = (
    ("therapy", "Q000628"),
    ("surgery", "Q000601"),
    ("etiology", "Q000209"),
    ("diagnostic imaging", "Q000000981"),
    ("pathology", "Q000473"),
    ("metabolism", "Q000378"),
    ("drug therapy", "Q000188"),
    ("epidemiology", "Q000453"),
    ("physiopathology", "Q000503"),
    ("complications", "Q000150"),
    ("adverse effects", "Q000009"),
    ("methods", "Q000379"),
    ("cytology", "Q000166"),
    ("genetics", "Q000235"),
)
_CHECK_TAGS = (
    ("Humans", "D006801"),
    ("Male", "D008297"),
    ("Female", "D005260"),
    ("Adult", "D000328"),
    ("Middle Aged", "D008875"),
    ("Aged", "D000368"),
    ("Animals", "D000818"),
)
_PUBLICATION_TYPES = (
    ("Randomized Controlled Trial", "D016449"),
    ("Review", "D016454"),
    ("Systematic Review", "D000078182"),
    ("Meta-Analysis", "D017418"),
    ("Comparative Study", "D003160"),
    ("Research Support, Non-U.S. Gov't", "D013485"),
    ("Observational Study", "D064888"),
    ("Clinical Trial", "D016430"),
    ("Multicenter Study", "D016448"),
)
_AGENCIES = (
    ("NIAMS NIH HHS", "AR", "United States"),
    ("NIA NIH HHS", "AG", "United States"),
    ("NHLBI NIH HHS", "HL", "United States"),
    ("Wellcome Trust", "WT_", "United Kingdom"),
    ("Medical Research Council", "MRC_", "United Kingdom"),
    ("CIHR", "", "Canada"),
    ("Deutsche Forschungsgemeinschaft", "", "Germany"),
)
_INTERESTS = (
    "The authors declare no competing interests.",
    "Competing interests: None declared.",
    "One author received consulting fees from a device manufacturer; the others declare "
    "no conflicts of interest.",
)
_KEYWORDS = (
    "femoral head necrosis",
    "core decompression",
    "bone marrow aspirate",
    "mesenchymal stem cells",
    "total hip arthroplasty",
    "avascular necrosis",
    "glucocorticoids",
    "angiogenesis",
    "HIF-1 alpha",
    "VEGF",
    "platelet-rich plasma",
    "bisphosphonates",
    "finite element analysis",
    "meta-analysis",
    "rabbit model",
    "biomarkers",
)


def _check_digit_issn(first7: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first7, range(8, 1, -1), strict=True))
    check = (11 - total % 11) % 11
    return f"{first7[:4]}-{first7[4:]}{'X' if check == 10 else check}"


class PubmedGenerator:
    """Builds the n-th record of a seeded set; shared pools are built once."""

    def __init__(self, *, records: int, seed: int = 1) -> None:
        self.records = records
        self.seed = seed
        pool = random.Random(f"pools-{seed}")
        self.journals = []
        for index in range(300):
            words = pool.sample(_JOURNAL_WORDS, 3)
            title = f"Journal of {words[0]} {words[1]} and {words[2]} {index + 1}"
            abbreviation = f"J {words[0][:4]} {words[1][:4]} {words[2][:3]} {index + 1}"
            issn = _check_digit_issn(f"{1000 + index * 3:04d}{pool.randrange(1000):03d}")
            self.journals.append(
                JournalRecord(
                    title=title,
                    iso_abbreviation=abbreviation,
                    issn=issn,
                    eissn="",
                    nlm_id=str(100_000_000 + index * 37),
                    publisher="",
                )
            )
        self.descriptors = [
            (f"{pool.choice(_WORDS).capitalize()} {pool.choice(_WORDS)} {index}", f"D{index:06d}")
            for index in range(1, 400)
        ]
        # Classics outside the set that many records cite, and rarer ones.
        outside = max(1000, records * 3)
        self.outside_pmids = [10_000_000 + index * 13 for index in range(outside)]

    # -- records ----------------------------------------------------------------------------

    def pmid(self, index: int) -> str:
        return str(FIRST_PMID + index)

    def record(self, index: int, *, curated: bool = False) -> StudyRecord:
        rng = random.Random(f"{self.seed}-{index}")
        pmid = self.pmid(index)
        year = rng.randint(1995, 2025)
        sections = self._abstract(rng)
        record = StudyRecord(
            pmid=pmid,
            doi=f"10.{1000 + index % 8000}/bench.{year}.{index}",
            pmcid=f"PMC{5_000_000 + index}" if rng.random() < 0.3 else "",
            title=self._title(rng),
            abstract=" ".join(f"{s.label}: {s.text}" for s in sections),
            abstract_sections=sections,
            language="eng",
            journal=self.journals[rng.randrange(len(self.journals))],
            volume=str(rng.randint(1, 120)),
            issue=str(rng.randint(1, 12)),
            pages=self._pages(rng),
            pub_date=self._date(rng, year),
            authors=self._authors(rng),
            publication_types=self._publication_types(rng),
            mesh_headings=self._mesh(rng),
            keywords=rng.sample(_KEYWORDS, rng.randint(3, 6)),
            references=self._references(rng, index),
        )
        # A generator of its own, so that the other fields stay those of version 1.
        funding = random.Random(f"{self.seed}-{index}-funding")
        if funding.random() < 0.4:
            record.grants = [
                GrantRecord(agency, _grant_number(funding, acronym), acronym, country)
                for agency, acronym, country in funding.sample(_AGENCIES, funding.randint(1, 3))
            ]
        if funding.random() < 0.5:
            record.conflict_of_interest = funding.choice(_INTERESTS)
        if curated:
            add_curation(record, rng)
        return record

    def iter_records(self, *, start: int = 0, stop: int | None = None, curated: bool = False):
        for index in range(start, self.records if stop is None else stop):
            yield self.record(index, curated=curated)

    def _sentence(self, rng: random.Random, words: int) -> str:
        text = " ".join(rng.choice(_WORDS) for _ in range(words))
        if rng.random() < 0.15:
            text += f" {rng.choice(_MARKUP_PHRASES)}"
        if rng.random() < 0.1:
            text += f" at {rng.randint(2, 20)} mg/m2"
        return text[0].upper() + text[1:] + "."

    def _abstract(self, rng: random.Random) -> list[AbstractSectionRecord]:
        sections = []
        for label in ("BACKGROUND", "METHODS", "RESULTS", "CONCLUSIONS"):
            sentences = [self._sentence(rng, rng.randint(10, 22)) for _ in range(rng.randint(2, 4))]
            sections.append(AbstractSectionRecord(label, label, " ".join(sentences)))
        if rng.random() < BROAD_SHARE:
            first = sections[0]
            first.text = f"{first.text} Patients with {BROAD_TERM} were studied."
        if rng.random() < SELECTIVE_SHARE:
            results = sections[2]
            results.text = f"{results.text} Serum {SELECTIVE_TERM} was raised."
        return sections

    def _title(self, rng: random.Random) -> str:
        words = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(8, 16)))
        kind = rng.choice(("cohort", "randomised", "systematic"))
        return f"{words[0].upper()}{words[1:]}: a {kind} study."

    def _pages(self, rng: random.Random) -> str:
        if rng.random() < 0.2:
            return f"e{rng.randint(10000, 99999)}"
        start = rng.randint(1, 2000)
        return f"{start}-{start + rng.randint(4, 15)}"

    def _date(self, rng: random.Random, year: int) -> PublicationDate:
        roll = rng.random()
        if roll < 0.07:
            month = rng.randrange(11)
            return PublicationDate(year=year, text=f"{year} {MONTHS[month]}-{MONTHS[month + 1]}")
        if roll < 0.15:
            return PublicationDate(year=year)
        month = rng.randint(1, 12)
        if roll < 0.5:
            return PublicationDate(year=year, month=month)
        return PublicationDate(year=year, month=month, day=rng.randint(1, 28))

    def _authors(self, rng: random.Random) -> list[AuthorRecord]:
        authors = []
        for _ in range(max(1, int(rng.gauss(6, 2)))):
            fore = rng.choice(_FORE_NAMES)
            city, country = rng.choice(_PLACES)
            affiliations = [rng.choice(_INSTITUTIONS).format(city=city, country=country)]
            if rng.random() < 0.15:
                other_city, other_country = rng.choice(_PLACES)
                affiliations.append(
                    rng.choice(_INSTITUTIONS).format(city=other_city, country=other_country)
                )
            orcid = ""
            if rng.random() < 0.25:
                digits = f"{rng.randrange(10**15):015d}"
                orcid = f"0000-{digits[3:7]}-{digits[7:11]}-{digits[11:15]}"
            authors.append(
                AuthorRecord(
                    last_name=rng.choice(_LAST_NAMES),
                    fore_name=fore,
                    initials="".join(part[0] for part in fore.split("-")),
                    orcid=orcid,
                    affiliations=affiliations,
                )
            )
        if rng.random() < 0.05:
            authors.append(AuthorRecord(collective_name=rng.choice(_COLLECTIVES)))
        return authors

    def _publication_types(self, rng: random.Random) -> list[PublicationTypeRecord]:
        extra = rng.sample(_PUBLICATION_TYPES, rng.randint(1, 3))
        return [PublicationTypeRecord("Journal Article", "D016428")] + [
            PublicationTypeRecord(name, ui) for name, ui in extra
        ]

    def _mesh(self, rng: random.Random) -> list[MeshHeadingRecord]:
        headings = [
            MeshHeadingRecord(name, ui) for name, ui in rng.sample(_CHECK_TAGS, rng.randint(2, 4))
        ]
        for name, ui in rng.sample(self.descriptors, rng.randint(5, 8)):
            qualifiers = [
                MeshQualifierRecord(q_name, q_ui, is_major=rng.random() < 0.3)
                for q_name, q_ui in rng.sample(_QUALIFIERS, rng.choice((0, 0, 1, 1, 2)))
            ]
            major = rng.random() < 0.25 and not any(q.is_major for q in qualifiers)
            headings.append(MeshHeadingRecord(name, ui, is_major=major, qualifiers=qualifiers))
        return headings

    def _references(self, rng: random.Random, index: int) -> list[WorkRecord]:
        references = []
        for _ in range(max(5, int(rng.gauss(30, 8)))):
            author = rng.choice(_LAST_NAMES)
            year = rng.randint(1970, 2024)
            title = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(6, 12)))
            journal = rng.choice(self.journals)
            volume, first_page = rng.randint(1, 90), rng.randint(1, 900)
            text = (
                f"{author} {rng.choice('ABCDEFGHJKLMNPRSTW')}, et al. {title.capitalize()}. "
                f"{journal.iso_abbreviation}. {year};{volume}:{first_page}-{first_page + 9}."
            )
            work = WorkRecord(raw_text=text)
            roll = rng.random()
            if roll < 0.4 and self.records > 1:
                other = rng.randrange(self.records - 1)
                work.pmid = self.pmid(other if other < index else other + 1)
            elif roll < 0.8:
                # Skewed towards the first outside PMIDs: a few classics cited very often.
                position = int(len(self.outside_pmids) * rng.random() ** 3)
                work.pmid = str(self.outside_pmids[position])
            elif roll < 0.95:
                work.doi = f"10.{2000 + rng.randrange(500)}/ext.{rng.randrange(10**7)}"
            references.append(work)
        return references


def add_curation(record: StudyRecord, rng: random.Random) -> None:
    """Appraisal, effect sizes, limitations and research gaps, as curators record them."""
    design = rng.choice(
        ["rct", "cohort", "systematic_review", "meta_analysis", "animal", "case_control"]
    )
    states = [ReportingState.REPORTED, ReportingState.NOT_REPORTED, ReportingState.NOT_CURATED]

    def reported(text: str) -> ReportedValue:
        state = rng.choice(states)
        return ReportedValue(state, text if state == ReportingState.REPORTED else "")

    sample = rng.choice(states)
    record.appraisal = AppraisalRecord(
        design=design,
        population=reported("Adults with non-traumatic necrosis of the femoral head"),
        sample_size=ReportedValue(
            sample, str(rng.randint(12, 900)) if sample == ReportingState.REPORTED else ""
        ),
        intervention=reported("Core decompression with autologous bone marrow cells"),
        comparator=reported("Core decompression alone"),
        outcomes=reported("Radiographic collapse and Harris hip score at 24 months"),
        safety=reported("No serious adverse events"),
        effect_measures=reported("Risk ratio for collapse"),
        main_result="Cell therapy reduced the risk of collapse.",
        risk_of_bias=rng.choice(["low", "some_concerns", "high"]),
        risk_of_bias_tool="rob2",
        certainty=rng.choice(["high", "moderate", "low", "very_low"]),
        concepts=[
            ConceptRecord(rng.choice(["HIF-1 alpha/VEGF", "Blood supply", "Wnt"]), "mechanism")
        ],
    )
    record.review_status = rng.choice(["draft", "in_review", "reviewed"])
    if rng.random() < 0.5:
        low = round(rng.uniform(0.2, 0.8), 2)
        record.effect_sizes = [
            EffectSizeRecord(
                outcome="Collapse",
                measure="RR",
                value=round(low + 0.1, 2),
                ci_lower=low,
                ci_upper=round(low + 0.3, 2),
                n_intervention=rng.randint(10, 200),
                n_comparator=rng.randint(10, 200),
            )
        ]
    record.limitations = [
        LimitationRecord(
            rng.choice(["Small sample.", "Single centre.", "Short follow-up."]),
            category=rng.choice(["sample_size", "follow_up", "generalisability"]),
        )
        for _ in range(rng.randint(1, 3))
    ]
    record.research_gaps = [
        ResearchGapRecord(
            "Interaction between pathological axes is unexplored.",
            category=rng.choice(["mechanism", "long_term_follow_up", "population"]),
        )
        for _ in range(rng.randint(1, 2))
    ]


# -- PubMed XML ---------------------------------------------------------------------------


def _marked_up(text: str) -> str:
    """Escape, then add the inline markup PubMed keeps inside abstracts."""
    text = escape(text)
    for phrase in _MARKUP_PHRASES:
        text = text.replace(f" {phrase}", f" <i>{phrase}</i>")
    return text.replace(" mg/m2", " mg/m<sup>2</sup>")


def _pub_date_xml(date: PublicationDate) -> str:
    if date.text:
        return f"<PubDate><MedlineDate>{escape(date.text)}</MedlineDate></PubDate>"
    parts = [f"<Year>{date.year}</Year>"]
    if date.month:
        parts.append(f"<Month>{MONTHS[date.month - 1]}</Month>")
    if date.day:
        parts.append(f"<Day>{date.day:02d}</Day>")
    return f"<PubDate>{''.join(parts)}</PubDate>"


def _pagination_xml(pages: str) -> str:
    if pages.startswith("e"):
        return f"<Pagination><MedlinePgn>{pages}</MedlinePgn></Pagination>"
    start, end = pages.split("-")
    return (
        f"<Pagination><StartPage>{start}</StartPage><EndPage>{end}</EndPage>"
        f"<MedlinePgn>{start}-{end}</MedlinePgn></Pagination>"
    )


def _author_xml(author: AuthorRecord) -> str:
    if author.collective_name:
        name = escape(author.collective_name)
        return f'<Author ValidYN="Y"><CollectiveName>{name}</CollectiveName></Author>'
    parts = [
        '<Author ValidYN="Y">',
        f"<LastName>{escape(author.last_name)}</LastName>",
        f"<ForeName>{escape(author.fore_name)}</ForeName>",
        f"<Initials>{author.initials}</Initials>",
    ]
    if author.orcid:
        parts.append(f'<Identifier Source="ORCID">{author.orcid}</Identifier>')
    parts += [
        f"<AffiliationInfo><Affiliation>{escape(text)}</Affiliation></AffiliationInfo>"
        for text in author.affiliations
    ]
    parts.append("</Author>")
    return "".join(parts)


def _mesh_xml(heading: MeshHeadingRecord) -> str:
    major = "Y" if heading.is_major else "N"
    parts = [
        f'<MeshHeading><DescriptorName UI="{heading.ui}" MajorTopicYN="{major}">'
        f"{escape(heading.descriptor)}</DescriptorName>"
    ]
    for qualifier in heading.qualifiers:
        q_major = "Y" if qualifier.is_major else "N"
        parts.append(
            f'<QualifierName UI="{qualifier.ui}" MajorTopicYN="{q_major}">'
            f"{escape(qualifier.name)}</QualifierName>"
        )
    parts.append("</MeshHeading>")
    return "".join(parts)


def _reference_xml(work: WorkRecord) -> str:
    ids = []
    if work.pmid:
        ids.append(f'<ArticleId IdType="pubmed">{work.pmid}</ArticleId>')
    if work.doi:
        ids.append(f'<ArticleId IdType="doi">{escape(work.doi)}</ArticleId>')
    id_list = f"<ArticleIdList>{''.join(ids)}</ArticleIdList>" if ids else ""
    return f"<Reference><Citation>{escape(work.raw_text)}</Citation>{id_list}</Reference>"


def _grant_number(rng: random.Random, acronym: str) -> str:
    """NIH's 'R01 AR012345' for an institute code, a plain number for other funders."""
    number = f"{rng.randrange(10**6):06d}"
    return f"R01 {acronym}{number}" if len(acronym) == 2 else number


def _grant_list_xml(record: StudyRecord) -> list[str]:
    if not record.grants:
        return []
    grants = "".join(
        f"<Grant><GrantID>{escape(g.grant_id)}</GrantID>"
        + (f"<Acronym>{g.acronym}</Acronym>" if g.acronym else "")
        + f"<Agency>{escape(g.agency)}</Agency><Country>{g.country}</Country></Grant>"
        for g in record.grants
    )
    return [f'<GrantList CompleteYN="Y">{grants}</GrantList>']


def article_xml(record: StudyRecord) -> str:
    journal = record.journal
    date = record.pub_date
    sections = "".join(
        f'<AbstractText Label="{s.label}" NlmCategory="{s.category}">{_marked_up(s.text)}'
        "</AbstractText>"
        for s in record.abstract_sections
    )
    ids = [f'<ArticleId IdType="pubmed">{record.pmid}</ArticleId>']
    if record.doi:
        ids.append(f'<ArticleId IdType="doi">{escape(record.doi)}</ArticleId>')
    if record.pmcid:
        ids.append(f'<ArticleId IdType="pmc">{record.pmcid}</ArticleId>')
    pub_year = date.year or 2000
    return "".join(
        [
            "<PubmedArticle>",
            '<MedlineCitation Status="MEDLINE" Owner="NLM" IndexingMethod="Automated">',
            f'<PMID Version="1">{record.pmid}</PMID>',
            f"<DateCompleted><Year>{pub_year}</Year><Month>12</Month><Day>01</Day></DateCompleted>",
            f"<DateRevised><Year>{pub_year + 1}</Year><Month>01</Month><Day>15</Day></DateRevised>",
            '<Article PubModel="Print-Electronic">',
            "<Journal>",
            f'<ISSN IssnType="Print">{journal.issn}</ISSN>',
            '<JournalIssue CitedMedium="Internet">',
            f"<Volume>{record.volume}</Volume><Issue>{record.issue}</Issue>",
            _pub_date_xml(date),
            "</JournalIssue>",
            f"<Title>{escape(journal.title)}</Title>",
            f"<ISOAbbreviation>{escape(journal.iso_abbreviation)}</ISOAbbreviation>",
            "</Journal>",
            f"<ArticleTitle>{escape(record.title)}</ArticleTitle>",
            _pagination_xml(record.pages),
            f'<ELocationID EIdType="doi" ValidYN="Y">{escape(record.doi)}</ELocationID>',
            f"<Abstract>{sections}<CopyrightInformation>© {pub_year} The Authors."
            "</CopyrightInformation></Abstract>",
            f'<AuthorList CompleteYN="Y">{"".join(_author_xml(a) for a in record.authors)}'
            "</AuthorList>",
            f"<Language>{record.language}</Language>",
            "<PublicationTypeList>",
            *(
                f'<PublicationType UI="{ptype.ui}">{escape(ptype.name)}</PublicationType>'
                for ptype in record.publication_types
            ),
            "</PublicationTypeList>",
            *_grant_list_xml(record),
            "</Article>",
            "<MedlineJournalInfo><Country>England</Country>",
            f"<MedlineTA>{escape(journal.iso_abbreviation)}</MedlineTA>",
            f"<NlmUniqueID>{journal.nlm_id}</NlmUniqueID>",
            f"<ISSNLinking>{journal.issn}</ISSNLinking></MedlineJournalInfo>",
            "<CitationSubset>IM</CitationSubset>",
            f"<MeshHeadingList>{''.join(_mesh_xml(h) for h in record.mesh_headings)}"
            "</MeshHeadingList>",
            '<KeywordList Owner="NOTNLM">',
            *(
                f'<Keyword MajorTopicYN="N">{escape(keyword)}</Keyword>'
                for keyword in record.keywords
            ),
            "</KeywordList>",
            *(
                [f"<CoiStatement>{escape(record.conflict_of_interest)}</CoiStatement>"]
                if record.conflict_of_interest
                else []
            ),
            "</MedlineCitation>",
            "<PubmedData><History>",
            f'<PubMedPubDate PubStatus="received"><Year>{pub_year - 1}</Year><Month>6</Month>'
            "<Day>1</Day></PubMedPubDate>",
            f'<PubMedPubDate PubStatus="pubmed"><Year>{pub_year}</Year><Month>1</Month>'
            "<Day>2</Day></PubMedPubDate>",
            "</History><PublicationStatus>ppublish</PublicationStatus>",
            f"<ArticleIdList>{''.join(ids)}</ArticleIdList>",
            f"<ReferenceList>{''.join(_reference_xml(w) for w in record.references)}"
            "</ReferenceList>",
            "</PubmedData>",
            "</PubmedArticle>\n",
        ]
    )


def write_pubmed_xml(records: Iterator[StudyRecord], out: TextIO) -> int:
    """Write a PubmedArticleSet record by record; returns the number written."""
    out.write(DOCTYPE)
    out.write("<PubmedArticleSet>\n")
    count = 0
    for record in records:
        out.write(article_xml(record))
        count += 1
    out.write("</PubmedArticleSet>\n")
    return count


@contextmanager
def open_output(path: Path, *, compress: bool):
    if compress:
        # No name, mtime=0: the same seed gives the same bytes, compressed or not.
        raw = open(path, "wb")  # noqa: SIM115 (closed below, with the gzip layer)
        try:
            with (
                gzip.GzipFile("", "wb", 6, raw, mtime=0) as zipped,
                io.TextIOWrapper(zipped, encoding="utf-8", newline="\n") as text,
            ):
                yield text
        finally:
            raw.close()
    else:
        with open(path, "w", encoding="utf-8", newline="\n", buffering=1 << 20) as text:
            yield text


def generate_file(path: Path, *, records: int, seed: int = 1, compress: bool = False) -> int:
    generator = PubmedGenerator(records=records, seed=seed)
    with open_output(path, compress=compress) as out:
        return write_pubmed_xml(generator.iter_records(), out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--output", type=Path, default=Path("/tmp/bench.xml"))
    parser.add_argument("--gzip", action="store_true", help="Write gzip-compressed XML.")
    args = parser.parse_args(argv)
    if args.records < 1:
        parser.error("--records must be at least 1")
    count = generate_file(args.output, records=args.records, seed=args.seed, compress=args.gzip)
    size = args.output.stat().st_size
    print(f"wrote {count} records to {args.output} ({size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
