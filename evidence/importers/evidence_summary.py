"""Parser for evidence summaries: a structured appraisal written as prose.

An evidence summary is a reviewer's paragraph or three about one study, in a fixed
order of topics but free wording, then ``View Original Abstract ↓`` and the study's
abstract. It carries no title and no identifier, so the record it yields needs
curation (the import service attaches it to a study whose abstract matches)::

    A systematic review article synthesized ... (SONFH).        -> design, condition
    The review did not report on a specific study population, ... -> reporting states
    Its main result is ... involving A, B, C, and D to ...       -> main result, mechanisms
    Safety and tolerability data were not reported, ...          -> safety
    The authors acknowledge several key limitations, including X, Y, and Z.
    The practice relevance is ...
    The authors propose that subsequent studies should P and Q.  -> research gaps
    It is critical to recognize ...                              -> notes
    View Original Abstract ↓
    <abstract>

The reading is deliberately rule-based and conservative: a field the prose never
mentions stays ``not_curated`` rather than being guessed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from evidence.importers.records import (
    AppraisalRecord,
    ConceptRecord,
    EffectSizeRecord,
    LimitationRecord,
    ParsedItem,
    ParseError,
    ReportedValue,
    ReportingState,
    ResearchGapRecord,
    SourceLocation,
    StudyRecord,
)
from evidence.importers.text import clean, read_text

__all__ = ["NEEDS_CURATION_WARNING", "parse", "parse_summary"]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


NEEDS_CURATION_WARNING = (
    "no title or identifier: needs curation; will attach to an existing study whose "
    "abstract matches"
)

_MARKER_RE = re.compile(r"View\s+Original\s+Abstract\s*[↓⬇▼⌄]?", re.IGNORECASE)

# --- study design -------------------------------------------------------------------
# Searched in the opening sentence; the earliest match names the design ("A narrative
# review of randomized trials" is a narrative review).
_DESIGN_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("protocol", re.compile(r"\bprotocol\b", re.I)),
    ("meta_analysis", re.compile(r"\bmeta-?analys[ie]s\b|\bmeta-?analytic", re.I)),
    (
        "systematic_review",
        re.compile(r"\bsystematic (?:literature )?review|\bscoping review", re.I),
    ),
    (
        "rct",
        re.compile(r"\brandomi[sz]ed\b(?:[\w\s,-]{0,60}?)\b(?:trial|study)\b|\bRCTs?\b", re.I),
    ),
    (
        "non_randomised_trial",
        re.compile(
            r"\bnon-?randomi[sz]ed\b[\w\s,-]{0,40}?\b(?:trial|study)\b|\bquasi-?experimental"
            r"|\bsingle-arm\b|\buncontrolled (?:clinical )?trial|\bopen-label (?:pilot )?trial",
            re.I,
        ),
    ),
    ("case_control", re.compile(r"\bcase[- ]control\b", re.I)),
    ("cohort", re.compile(r"\bcohort\b|\b(?:prospective|retrospective|longitudinal) study", re.I)),
    ("cross_sectional", re.compile(r"\bcross-?sectional\b|\bsurvey\b", re.I)),
    ("case_series", re.compile(r"\bcase (?:series|reports?)\b", re.I)),
    ("guideline", re.compile(r"\bguidelines?\b|\bconsensus statement|\bposition statement", re.I)),
    (
        "animal",
        re.compile(
            r"\banimal (?:study|model|experiment)|\b(?:in|using) (?:mice|rats|rabbits|pigs|dogs)\b"
            r"|\b(?:murine|rat|mouse|rabbit|canine|porcine) model|\bin vivo\b",
            re.I,
        ),
    ),
    ("in_vitro", re.compile(r"\bin vitro\b|\bcell[- ]culture|\blaboratory study", re.I)),
    ("narrative_review", re.compile(r"\b(?:narrative|literature)? ?review\b", re.I)),
]
# "Randomized" inside "non-randomized" must not count as an RCT.
_NON_RANDOMISED_RE = re.compile(r"\bnon-?randomi[sz]ed\b", re.I)

# --- reporting states ---------------------------------------------------------------
_FIELD_KEYWORDS: dict[str, re.Pattern[str]] = {
    "population": re.compile(
        r"\b(?:study )?populations?\b|\bparticipants?\b|\bpatient characteristics\b"
        r"|\beligibility\b|\binclusion criteria\b",
        re.I,
    ),
    "sample_size": re.compile(r"\bsample sizes?\b|\bnumber of (?:participants|patients)", re.I),
    "intervention": re.compile(r"\binterventions?\b", re.I),
    "comparator": re.compile(r"\bcomparators?\b|\bcontrol (?:group|arm)s?\b", re.I),
    "outcomes": re.compile(r"\boutcomes?\b|\bend-?points?\b", re.I),
    "safety": re.compile(
        r"\bsafety\b|\btolerability\b|\badverse (?:events?|effects?|reactions?)\b|\bharms?\b",
        re.I,
    ),
    "effect_measures": re.compile(
        r"\beffect (?:sizes?|estimates?|measures?)\b|\bnumerical data\b|\bstatistical measures?\b"
        r"|\bconfidence intervals?\b|\bodds ratios?\b|\bhazard ratios?\b|\brisk ratios?\b"
        r"|\bp[- ]values?\b",
        re.I,
    ),
}
# The clause says something was *not reported*; "no serious adverse events occurred" is
# a reported (reassuring) result, not missing data.
_NOT_REPORTED_RE = re.compile(
    r"\b(?:did|does|do|was|were|is|are|has|have|had)\s+not\s+(?:\w+\s+)?"
    r"(?:report|reported|describe|described|specify|specified|provide|provided|state|stated|"
    r"present|presented|give|given|include|included|mention|mentioned)\b"
    r"|\bnot (?:reported|described|specified|provided|stated|available)\b"
    r"|\b(?:no|neither)\b[^.;]*?\b(?:was|were|is|are)\s+(?:reported|described|provided|given|"
    r"presented|available)\b"
    r"|\bfailed to report\b|\bwithout reporting\b|\bunreported\b",
    re.I,
)
# A reason clause ("..., as the review did not analyse trials") is not about reporting.
_CLAUSE_SPLIT_RE = re.compile(
    r";|:|,\s+(?=(?:as|because|since|while|whereas|but|although|though|so)\b)"
    r"|\s+(?=(?:because|since|whereas|although)\b)",
    re.I,
)

_COUNT = r"(\d{1,3}(?:,\d{3})+|\d+)"
_PEOPLE = (
    r"(?:(?:adult|paediatric|pediatric|elderly|older|young|male|female|healthy|eligible|"
    r"consecutive)\s+)*(?:patients|participants|subjects|adults|children|infants|"
    r"adolescents|women|men|individuals|people|persons|volunteers|residents|cases|eyes|"
    r"pregnancies)"
)
_SAMPLE_SIZE_RES = [
    re.compile(
        rf"\b(?:enrolled|enrolling|included|including|randomi[sz]ed|randomi[sz]ing|recruited|"
        rf"recruiting|involved|involving|comprised|comprising|analy[sz]ed|followed|studied|"
        rf"of|with|among|in)\s+(?:a total of\s+|an? (?:sample|cohort) of\s+)?{_COUNT}\s+"
        rf"(?P<who>{_PEOPLE}\b[^.;]*)",
        re.I,
    ),
    re.compile(rf"\bsample (?:size )?of\s+{_COUNT}\b", re.I),
    re.compile(rf"\b[nN]\s*=\s*{_COUNT}\b"),
]
_POPULATION_RES = [
    re.compile(
        r"\b(?:study )?population (?:was|were|comprised|consisted of|included|of)\s+([^.;]+)",
        re.I,
    ),
    re.compile(
        r"\b(?:participants|patients|subjects) (?:were|was)\s+((?:adults|children|women|men|"
        r"aged|with|older|younger)[^.;]+)",
        re.I,
    ),
]
_INTERVENTION_RES = [
    re.compile(
        r"\b(?:the )?interventions? (?:was|were|consisted of|comprised|involved|included)\s+"
        r"([^.;]+?)(?:,?\s+(?:compared|versus|vs\.?)\b|[.;]|$)",
        re.I,
    ),
    re.compile(
        r"\brandomi[sz]ed\s+(?:\w+\s+){0,3}?to (?:receive\s+)?([^.;]+?)\s+(?:or|versus|vs\.?)\s+",
        re.I,
    ),
]
_COMPARATOR_RES = [
    re.compile(r"\bcomparators? (?:was|were|consisted of|comprised)\s+([^.;,]+)", re.I),
    re.compile(r"\bcompared (?:with|to|against)\s+([^.;,]+)", re.I),
    re.compile(
        r"\brandomi[sz]ed\s+(?:\w+\s+){0,3}?to (?:receive\s+)?[^.;]+?\s+(?:or|versus|vs\.?)\s+"
        r"([^.;,]+)",
        re.I,
    ),
]
_OUTCOME_RES = [
    re.compile(
        r"\b(?:primary|main|secondary|principal) (?:outcomes?|end-?points?) (?:was|were|"
        r"included|comprised|being)\s+([^.;]+)",
        re.I,
    ),
    re.compile(r"\boutcomes? (?:measured|assessed) (?:was|were|included)\s+([^.;]+)", re.I),
]
_SAFETY_REPORTED_RE = re.compile(
    r"\badverse (?:events?|effects?|reactions?)\b|\bside[- ]effects?\b|\bwell[- ]tolerated\b"
    r"|\bsafety profile\b|\bcomplications?\b|\bdiscontinu\w+ (?:due|because)\b",
    re.I,
)

# --- effect sizes -------------------------------------------------------------------
# Minus sign and en dash are written as minus in typeset prose.
_MINUS = "\u2212\u2013"
_NUMBER = rf"[-{_MINUS}]?\d+(?:\.\d+)?"
_MEASURES = {
    "odds ratio": "OR",
    "or": "OR",
    "risk ratio": "RR",
    "relative risk": "RR",
    "rr": "RR",
    "hazard ratio": "HR",
    "hr": "HR",
    "mean difference": "MD",
    "md": "MD",
    "standardi[sz]ed mean difference": "SMD",
    "smd": "SMD",
    "risk difference": "RD",
    "rd": "RD",
}
_EFFECT_RE = re.compile(
    r"\b(?P<measure>(?i:standardi[sz]ed mean difference|mean difference|odds ratio|risk ratio|"
    r"relative risk|hazard ratio|risk difference)|SMD|OR|RR|HR|MD|RD)\b[\s,:=]*"
    r"(?P<value>" + _NUMBER + r")(?P<unit>\s*(?:%|[A-Za-z]+(?:\s+[A-Za-z]+)?))?"
    r"(?:[,;\s(]*(?P<level>\d{2}(?:\.\d)?)\s*%\s*(?:CI|confidence interval)[\s,:]*"
    r"(?P<lower>" + _NUMBER + r")\s*(?:to|\u2013|\u2014|,|-(?=\s))\s*(?P<upper>" + _NUMBER + r"))?"
    r"(?:[^.;]{0,20}?[;,]\s*[Pp]\s*(?P<op>[=<>≤])\s*(?P<p>0?\.\d+))?",
)

# --- topics ---------------------------------------------------------------------------
_MAIN_RESULT_RE = re.compile(
    r"^(?:Its|The|Their|This (?:study|review|trial)'s) (?:main|primary|principal|key|"
    r"central) (?:results?|findings?|conclusions?)\b",
    re.I,
)
_PRACTICE_RE = re.compile(
    r"^(?:The |Its )?(?:practice|clinical|practical) (?:relevance|implications?|"
    r"applicability)\b|^For (?:clinical )?practice\b|^For clinicians\b|^In practice\b",
    re.I,
)
_NOTE_RE = re.compile(
    r"^(?:It is (?:critical|important|essential|worth noting|notable)\b|Importantly\b|"
    r"Note that\b|Notably\b|Readers should\b|Caution\b)",
    re.I,
)
_LIMITATION_RE = re.compile(
    r"\b(?:limitations?|weaknesses|shortcomings)\b[^.]*?"
    r"(?:\bincluding\b|\binclude[sd]?\b|\bsuch as\b|\bnamely\b|:|\b(?:was|were|is|are)\b)\s+"
    r"(?P<items>.+?)\.?$"
    r"|\b(?:limited|constrained|weakened) by\s+(?P<items2>.+?)\.?$",
    re.I,
)
_FUTURE_RES = [
    re.compile(
        r"\b(?:propose|proposes|suggest|suggests|recommend|recommends|advocate|advocates|"
        r"urge|urges|argue|argues|conclude|concludes|note|notes)\s+that\s+(?:\w+\s+){0,2}?"
        r"(?:studies|research|trials|work|investigations?|efforts)\s+(?:should|must|need to|"
        r"ought to|could|would|will need to)\s+(?P<body>.+?)\.?$",
        re.I,
    ),
    re.compile(
        r"\b(?:future|subsequent|further|larger|longer|additional)\s+(?:\w+\s+){0,2}?"
        r"(?:studies|research|trials|work)\s+(?:should|must|need to|will need to|"
        r"(?:is|are) (?:needed|required|warranted) to)\s+(?P<body>.+?)\.?$",
        re.I,
    ),
    re.compile(
        r"\b(?:future|subsequent|further|larger|longer|additional)\s+(?:\w+\s+){0,2}?"
        r"(?:studies|research|trials|work)\s+(?:is|are)\s+(?:needed|required|warranted)\s+"
        r"(?P<prep>on|for|in|into|of)\s+(?P<body>.+?)\.?$",
        re.I,
    ),
    re.compile(r"\bcalls? for\s+(?P<body>.+?)\.?$", re.I),
]
# Proposals are verb phrases; "X and develop Y" splits at a verb, "bone and muscle" does not.
_PROPOSAL_VERBS = _words(
    # Words that are also common nouns ("study", "design", "use") are left out on purpose.
    "address adopt apply assess build characterise characterize clarify combine compare "
    "conduct confirm consider determine develop elucidate employ enrol enroll "
    "establish evaluate examine explore expand extend identify improve "
    "incorporate increase integrate investigate optimise optimize perform "
    "prioritise prioritize quantify recruit replicate standardise standardize "
    "strengthen validate verify"
)
_PROPOSAL_SPLIT_RE = re.compile(
    r",?\s+and\s+(?=(?:"
    + "|".join(sorted(_PROPOSAL_VERBS))
    + r")\b)|,\s+(?=(?:"
    + "|".join(sorted(_PROPOSAL_VERBS))
    + r")\b)",
    re.I,
)

_LIMITATION_CATEGORIES: list[tuple[str, re.Pattern[str]]] = [
    (
        "sample_size",
        re.compile(r"sample|underpowered|statistical power|few (?:patients|particip)", re.I),
    ),
    ("follow_up", re.compile(r"follow[- ]?up|short (?:duration|term)|long-term", re.I)),
    ("heterogeneity", re.compile(r"heterogene|inconsisten", re.I)),
    (
        "bias_confounding",
        re.compile(
            r"\bbias|confound|blind|open-label|allocation|selection|attrition|loss to", re.I
        ),
    ),
    (
        "evidence_synthesis",
        re.compile(
            r"systematic (?:analysis|search|synthesis)|synthes|meta-?analy|literature search"
            r"|search strateg",
            re.I,
        ),
    ),
    (
        "mechanistic_validation",
        re.compile(r"verif|validat|mechanis|technolog|experimental confirm", re.I),
    ),
    ("intervention", re.compile(r"intervention|treatment|dos(?:e|ing)|therap|regimen", re.I)),
    (
        "generalisability",
        re.compile(r"generali[sz]|single[- ]cent|external validity|applicab|representativ", re.I),
    ),
    (
        "study_design",
        re.compile(
            r"design|retrospective|observational|non-?randomi|uncontrolled|no control"
            r"|cross-sectional",
            re.I,
        ),
    ),
]
_GAP_CATEGORIES: list[tuple[str, re.Pattern[str]]] = [
    ("long_term_follow_up", re.compile(r"long-?term|follow[- ]?up|longer", re.I)),
    ("intervention", re.compile(r"intervention|treatment|therap|dos(?:e|ing)|regimen", re.I)),
    (
        "population",
        re.compile(r"population|participants|diverse|subgroup|ethnic|elderly|children", re.I),
    ),
    ("outcome_measurement", re.compile(r"outcome|end-?point|biomarker|measure", re.I)),
    ("mechanism", re.compile(r"mechanis|pathway|interact|crosstalk|molecular|signal", re.I)),
    ("evidence_synthesis", re.compile(r"systematic review|meta-?analy|synthes", re.I)),
    (
        "methodology",
        re.compile(
            r"randomi|blind|method|design|sample|larger|multi-?cent|standardi|protocol", re.I
        ),
    ),
]

# --- concepts -------------------------------------------------------------------------
_ABBREVIATION_RE = re.compile(r"\(([A-Za-z][A-Za-z0-9\-]{1,11})\)")
_AXES_RE = re.compile(
    r"\b(?:ax[ie]s|pathways?|mechanisms?|domains?|pillars?|dimensions?)\b[^.;]*?"
    r"\b(?:involving|including|comprising|spanning|encompassing|namely|of|:)\s+"
    r"(?P<list>[^.;]+)",
    re.I,
)
_LIST_END_RE = re.compile(
    # An en dash inside a word joins a compound ("inflammation-immune"); spaced, it ends.
    r"\s+(?:to|that|which|for|in order|by|with|in|as|through|thereby)\b.*$|\s+[\u2014\u2013]\s.*$"
    r"|\s*[—(].*$",
    re.I,
)
_GREEK = "αβγδεκλμστωΑΒΓΔΚ"
_GENE_TOKEN = rf"[A-Za-z][A-Za-z0-9{_GREEK}]*(?:-[A-Za-z0-9{_GREEK}]+)*"
_SLASH_GROUP_RE = re.compile(rf"(?<![\w/]){_GENE_TOKEN}(?:/{_GENE_TOKEN})+(?![\w/])")
_SINGLE_TOKEN_RE = re.compile(rf"(?<![\w/-]){_GENE_TOKEN}(?![\w/])")
_MECHANISM_CONTEXT_RE = re.compile(
    r"pathway|signal|factor|mediat|regulat|express|activat|inhibit|modulat|receptor|"
    r"cytokine|\bgenes?\b|protein|transcription|kinase",
    re.I,
)
_NOT_GENES = {
    "RCT", "RCTS", "CI", "OR", "HR", "RR", "MD", "SMD", "RD", "USA", "UK", "EU", "WHO",
    "MRI", "CT", "PET", "BMI", "ICU", "FDA", "EMA", "NIH", "II", "III", "IV", "VI",
    "DNA", "RNA", "SD", "SE", "IQR", "AND", "NOT",
}  # fmt: skip

_STOPWORDS = _words(
    "a an the and or of in on at to for with from into by as among between both aimed "
    "that this these those their its more further future subsequent studies study research "
    "should must need lack limited insufficient insufficiently using use via within across "
    "multi also other than such"
)


@dataclass
class _Topics:
    main_result: list[str] = field(default_factory=list)
    practice: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    limitation_sentences: list[str] = field(default_factory=list)
    future_sentences: list[str] = field(default_factory=list)


def parse(stream: BinaryIO, *, source_name: str = "") -> Iterator[ParsedItem]:
    text, warnings = read_text(stream, source_name=source_name)
    if not text.strip():
        raise ParseError("empty file: no evidence summary", SourceLocation(source_name))
    record = parse_summary(text, location=SourceLocation(source_name, record=1, line=1))
    record.warnings[:0] = warnings
    yield record


def parse_summary(text: str, *, location: SourceLocation | None = None) -> StudyRecord:
    """One evidence summary (prose, marker, abstract) to a StudyRecord with an appraisal."""
    record = StudyRecord(location=location or SourceLocation())
    marker = _MARKER_RE.search(text)
    if marker:
        prose, abstract_text = text[: marker.start()], text[marker.end() :]
    else:
        prose, abstract_text = text, ""
        record.warnings.append("no 'View Original Abstract' marker: abstract left empty")
    record.abstract = "\n\n".join(
        clean(paragraph) for paragraph in re.split(r"\n\s*\n", abstract_text) if clean(paragraph)
    )
    sentences = _sentences(clean(prose))
    appraisal = AppraisalRecord(design=_design(sentences[0]) if sentences else "")
    _reporting_states(sentences, appraisal)
    topics = _topics(sentences)
    appraisal.main_result = " ".join(topics.main_result)
    appraisal.practice_relevance = " ".join(topics.practice)
    appraisal.notes = " ".join(topics.notes)
    record.limitations = [
        limitation
        for sentence in topics.limitation_sentences
        for limitation in _limitations(sentence)
    ]
    record.research_gaps = [
        gap
        for sentence in topics.future_sentences
        for gap in _research_gaps(sentence, record.limitations)
    ]
    record.effect_sizes = [effect for sentence in sentences for effect in _effect_sizes(sentence)]
    if record.effect_sizes and appraisal.effect_measures.state == ReportingState.NOT_CURATED:
        appraisal.effect_measures = ReportedValue(
            ReportingState.REPORTED,
            "; ".join(effect.note for effect in record.effect_sizes),
        )
    appraisal.concepts = _concepts(sentences, topics.main_result, record.abstract)
    record.appraisal = appraisal
    if not prose.strip():
        record.warnings.append("no appraisal text before the abstract")
    record.warnings.append(NEEDS_CURATION_WARNING)
    return record


def _sentences(text: str) -> list[str]:
    # Split at a stop followed by a capital, except after common abbreviations.
    parts = re.split(
        r"(?<=[.!?])(?<!\be\.g\.)(?<!\bi\.e\.)(?<!\bvs\.)(?<!\bet al\.)\s+(?=[A-Z])", text
    )
    return [part.strip() for part in parts if part.strip()]


def _design(sentence: str) -> str:
    found: list[tuple[int, int, str]] = []
    for order, (design, pattern) in enumerate(_DESIGN_PATTERNS):
        for match in pattern.finditer(sentence):
            if design == "rct" and _NON_RANDOMISED_RE.search(
                sentence[max(0, match.start() - 4) : match.end()]
            ):
                continue
            if design == "narrative_review" and not match.group(0).strip():
                continue
            found.append((match.start(), order, design))
            break
    if not found:
        return "other"
    designs = {design for _, _, design in found}
    # "A systematic review and meta-analysis": the pooled analysis is the stronger label.
    if {"systematic_review", "meta_analysis"} <= designs:
        return "meta_analysis"
    return min(found)[2]


def _reporting_states(sentences: list[str], appraisal: AppraisalRecord) -> None:
    not_reported: set[str] = set()
    for sentence in sentences:
        for clause in _CLAUSE_SPLIT_RE.split(sentence):
            if clause and _NOT_REPORTED_RE.search(clause):
                not_reported.update(
                    name for name, pattern in _FIELD_KEYWORDS.items() if pattern.search(clause)
                )
    for name in not_reported:
        setattr(appraisal, name, ReportedValue(ReportingState.NOT_REPORTED))

    def report(name: str, value: str) -> None:
        if name not in not_reported and getattr(appraisal, name).state == (
            ReportingState.NOT_CURATED
        ):
            setattr(appraisal, name, ReportedValue(ReportingState.REPORTED, value.strip()))

    for sentence in sentences:
        # Clause by clause, so "enrolled 120 patients but did not report ages" still counts.
        for clause in _CLAUSE_SPLIT_RE.split(sentence):
            if clause and not _NOT_REPORTED_RE.search(clause):
                _positive_reports(clause, sentence, report)


def _positive_reports(clause: str, sentence: str, report: Callable[[str, str], None]) -> bool:
    """Record what the clause reports; True when it reported anything."""
    found = False
    for pattern in _SAMPLE_SIZE_RES:
        match = pattern.search(clause)
        if match:
            found = True
            report("sample_size", match.group(1).replace(",", ""))
            who = match.groupdict().get("who")
            if who and re.search(r"\b(?:with|aged|who|from|undergoing)\b", who):
                report("population", _trim_phrase(who))
            break
    for name, patterns in (
        ("population", _POPULATION_RES),
        ("intervention", _INTERVENTION_RES),
        ("comparator", _COMPARATOR_RES),
        ("outcomes", _OUTCOME_RES),
    ):
        for pattern in patterns:
            match = pattern.search(clause)
            if match:
                found = True
                report(name, _trim_phrase(match.group(1)))
                break
    if _SAFETY_REPORTED_RE.search(clause):
        found = True
        report("safety", sentence)
    return found


def _is_reporting(sentence: str) -> bool:
    return bool(
        _NOT_REPORTED_RE.search(sentence)
        or re.match(r"^(?:Safety|Tolerability|Adverse)\b", sentence)
        or _positive_reports(sentence, sentence, lambda name, value: None)
    )


def _trim_phrase(text: str) -> str:
    text = re.split(r",\s+(?:and\s+)?(?:were|was|who|which|compared|versus)\b", text)[0]
    return text.strip().rstrip(",.")


def _topics(sentences: list[str]) -> _Topics:
    """Group sentences by topic; a sentence with no topic of its own continues the last one.

    After the reporting, limitation and future-direction sentences (parsed on their own)
    unlabelled sentences are the reviewer's caveats, kept as notes.
    """
    topics = _Topics()
    current: list[str] | None = None
    for index, sentence in enumerate(sentences):
        if index == 0:
            continue  # the design sentence
        if _MAIN_RESULT_RE.search(sentence):
            current = topics.main_result
        elif _PRACTICE_RE.search(sentence):
            current = topics.practice
        elif _NOTE_RE.search(sentence):
            current = topics.notes
        elif _is_future(sentence):
            topics.future_sentences.append(sentence)
            current = topics.notes
            continue
        elif _LIMITATION_RE.search(sentence):
            topics.limitation_sentences.append(sentence)
            current = topics.notes
            continue
        elif _is_reporting(sentence):
            current = topics.notes
            continue
        if current is not None:
            current.append(sentence)
    return topics


def _is_future(sentence: str) -> bool:
    return any(pattern.search(sentence) for pattern in _FUTURE_RES)


def _limitations(sentence: str) -> list[LimitationRecord]:
    match = _LIMITATION_RE.search(sentence)
    if not match:
        return []
    items = _split_items(match.group("items") or match.group("items2") or "")
    lowered = sentence.lower()
    by_authors = "author" in lowered and not re.search(
        r"not (?:\w+ )?(?:acknowledged|noted)", lowered
    )
    return [
        LimitationRecord(
            description=_capitalise(item),
            category=_categorise(item, _LIMITATION_CATEGORIES),
            raised_by="authors" if by_authors else "reviewer",
        )
        for item in items
    ]


_ITEM_START_RE = re.compile(
    r"^(?:a|an|the|no|lack|limited|small|short|insufficient|absence|inadequate|incomplete|"
    r"possible|potential|high|low|poor|reliance|use|unclear|missing)\b",
    re.I,
)


def _split_items(text: str) -> list[str]:
    """'A, B, and C' -> [A, B, C]; 'A and the B' -> [A, B]; commas in brackets kept."""
    parts: list[str] = []
    depth = 0
    current = ""
    for char in text:
        depth += (char in "([") - (char in ")]")
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    items = [re.sub(r"^\s*(?:and|or)\s+", "", part).strip() for part in parts]
    items = [item for item in items if item]
    if len(items) == 1:
        halves = re.split(r"\s+and\s+(?=\S)", items[0])
        if len(halves) == 2 and _ITEM_START_RE.match(halves[1]):
            items = halves
    return items


def _research_gaps(sentence: str, limitations: list[LimitationRecord]) -> list[ResearchGapRecord]:
    for pattern in _FUTURE_RES:
        match = pattern.search(sentence)
        if match:
            break
    else:
        return []
    body = match.group("body")
    prep = match.groupdict().get("prep")
    if prep:
        body = f"research {prep} {body}"
    proposals = [part.strip().rstrip(",") for part in _PROPOSAL_SPLIT_RE.split(body)]
    gaps = []
    for proposal in filter(None, proposals):
        direction = _capitalise(proposal)
        limitation = _best_match(proposal, limitations)
        description = limitation.description if limitation else direction
        gaps.append(
            ResearchGapRecord(
                description=description,
                category=_categorise(proposal, _GAP_CATEGORIES),
                future_direction=direction,
            )
        )
    return gaps


def _best_match(proposal: str, limitations: list[LimitationRecord]) -> LimitationRecord | None:
    """The limitation whose wording overlaps the proposal most (half its words or more)."""
    words = _content_words(proposal)
    best: tuple[float, LimitationRecord] | None = None
    for limitation in limitations:
        other = _content_words(limitation.description)
        shared = words & other
        if not shared:
            continue
        score = len(shared) / min(len(words), len(other))
        if score >= 0.5 and (best is None or score > best[0]):
            best = (score, limitation)
    return best[1] if best else None


def _content_words(text: str) -> set[str]:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return {_stem(word) for word in words if len(word) > 2 and word not in _STOPWORDS}


def _stem(word: str) -> str:
    for suffix in ("ations", "ation", "ings", "ing", "ies", "es", "s", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def _categorise(text: str, categories: list[tuple[str, re.Pattern[str]]]) -> str:
    for category, pattern in categories:
        if pattern.search(text):
            return category
    return "other"


def _effect_sizes(sentence: str) -> list[EffectSizeRecord]:
    effects = []
    for match in _EFFECT_RE.finditer(sentence):
        measure_text = match.group("measure")
        if measure_text.isupper() and measure_text == "OR" and not match.group("lower"):
            continue  # a bare "OR" + number without a CI is too likely to be prose
        measure = next(
            (code for name, code in _MEASURES.items() if re.fullmatch(name, measure_text, re.I)),
            "other",
        )
        effect = EffectSizeRecord(
            measure=measure,
            value=_number(match.group("value")),
            ci_lower=_number(match.group("lower")),
            ci_upper=_number(match.group("upper")),
            ci_level=float(match.group("level")) / 100 if match.group("level") else None,
            note=match.group(0).strip().rstrip(",;"),
        )
        if match.group("p") and match.group("op") == "=":
            effect.p_value = float(match.group("p"))
        effects.append(effect)
    return effects


def _number(text: str | None) -> float | None:
    if not text:
        return None
    return float(re.sub(f"[{_MINUS}]", "-", text))


def _concepts(sentences: list[str], main_result: list[str], abstract: str) -> list[ConceptRecord]:
    concepts: list[ConceptRecord] = []
    seen: set[str] = set()

    def add(name: str, kind: str) -> None:
        key = name.casefold()
        if name and key not in seen:
            seen.add(key)
            concepts.append(ConceptRecord(name=name, kind=kind))

    defined = set()
    opening = sentences[0] if sentences else ""
    for source in (opening, _sentences(abstract)[0] if abstract else ""):
        condition = _defined_condition(source)
        if condition:
            add(condition, "condition")
            break
    for source in (*sentences, abstract):
        defined.update(match.group(1) for match in _ABBREVIATION_RE.finditer(source))

    for sentence in main_result:
        for match in _AXES_RE.finditer(sentence):
            items = _split_items(_LIST_END_RE.sub("", match.group("list")))
            if len(items) >= 2 and all(len(item.split()) <= 5 for item in items):
                for item in items:
                    add(_LIST_END_RE.sub("", item).strip(), "mechanism")

    for clause in re.split(r"[;.]\s+|\n", abstract):
        if not _MECHANISM_CONTEXT_RE.search(clause):
            continue
        for match in _SLASH_GROUP_RE.finditer(clause):
            if any(_is_gene_like(token) for token in match.group(0).split("/")):
                add(match.group(0), "mechanism")
        masked = _SLASH_GROUP_RE.sub(" ", clause)
        for match in _SINGLE_TOKEN_RE.finditer(masked):
            token = match.group(0)
            if token not in defined and _is_gene_like(token):
                add(token, "mechanism")
    return concepts


def _is_gene_like(token: str) -> bool:
    """'NF-κB', 'STAT3', 'PGC-1α', 'eNOS', 'VEGF'; not 'RCT', 'Bone' or 'SONFH' (defined)."""
    if token.upper() in _NOT_GENES or len(token) > 12:
        return False
    uppercase = sum(char.isupper() for char in token)
    has_greek = any(char in _GREEK for char in token)
    has_digit = any(char.isdigit() for char in token)
    if has_greek and uppercase >= 1:
        return True
    if uppercase >= 2 and (has_digit or len(token) >= 3):
        return True
    return uppercase >= 1 and has_digit and token[0].isupper() and len(token) <= 6


def _defined_condition(sentence: str) -> str:
    """'... for steroid-induced osteonecrosis of the femoral head (SONFH)' -> that + '(SONFH)'.

    The long form is found by Schwartz & Hearst's abbreviation matching: the shortest run
    of preceding words whose letters spell the abbreviation in order.
    """
    for match in _ABBREVIATION_RE.finditer(sentence):
        short = match.group(1)
        if not any(char.isupper() for char in short):
            continue
        words = sentence[: match.start()].split()
        window = " ".join(words[-min(len(short) + 5, len(short) * 2) :])
        long_form = _long_form(short, window)
        if long_form and not any(pattern.search(long_form) for _, pattern in _DESIGN_PATTERNS[:-1]):
            return f"{long_form} ({short})"
    return ""


def _long_form(short: str, long: str) -> str:
    s_index, l_index = len(short) - 1, len(long) - 1
    while s_index >= 0:
        char = short[s_index].lower()
        if not char.isalnum():
            s_index -= 1
            continue
        while l_index >= 0 and (
            long[l_index].lower() != char
            or (s_index == 0 and l_index > 0 and long[l_index - 1].isalnum())
        ):
            l_index -= 1
        if l_index < 0:
            return ""
        l_index -= 1
        s_index -= 1
    start = long.rfind(" ", 0, l_index + 1) + 1
    return long[start:].strip()


def _capitalise(text: str) -> str:
    text = text.strip().rstrip(".")
    return text[:1].upper() + text[1:]
