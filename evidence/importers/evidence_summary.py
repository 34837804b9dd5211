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
mentions stays ``not_curated`` rather than being guessed, and so does one the prose
leaves open ("No adverse events were reported": none occurred, or none were reported?).
A field the prose calls "not applicable" is ``not_applicable``.

Files written by the same tool vary: topics come in another order or not at all;
limitations and future directions may be lists on their own lines ("1.", "(a)", "-",
"•") under a lead-in; Windows line endings and blank lines are common. Without the
marker, a structured abstract (a line opening "BACKGROUND:" and another label after it)
is still taken as the abstract; otherwise the abstract stays empty, with a warning. A
file holds one summary: two markers are refused, since nothing marks where the first
summary's abstract ends.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from evidence.importers.medline import split_abstract_sections
from evidence.importers.records import (
    NEEDS_CURATION_WARNING,
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


# The arrow is a link glyph; a file saved as Windows-1252 has "?" in its place, and some
# exports end the marker with a colon instead.
_MARKER_RE = re.compile(r"View\s+Original\s+Abstract\s*[↓⬇▼⌄?:]?", re.IGNORECASE)
# Without the marker, an abstract is still unmistakable when a line opens with an upper-case
# section label and a second label follows: reviewers' prose never looks like that.
_ABSTRACT_LABEL_LINE_RE = re.compile(
    r"^[ \t]*(?:BACKGROUND|INTRODUCTION|CONTEXT|RATIONALE|OBJECTIVES?|AIMS?|PURPOSE|"
    r"IMPORTANCE)(?:\s+AND\s+[A-Z]+)?\s*:",
    re.MULTILINE,
)
# A list item on its own line: "1. x", "2) x", "(a) x", "- x", "• x".
_LIST_ITEM_RE = re.compile(
    r"^\s*(?:\(?(?:\d{1,2}|[a-z]|[ivx]{1,4})[.)]|[-\u2013\u2022*\u00b7\u25aa\u25e6])\s+(?P<text>\S.*)$"
)

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
        re.compile(
            r"\brandomi[sz]ed\b(?:[\w\s,-]{0,60}?)\b(?:trial|study)\b|\bRCTs?\b"
            r"|\brandomly (?:assigned|allocated)\b",
            re.I,
        ),
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
    "sample_size": re.compile(
        r"\bsample sizes?\b|\bnumber of (?:participants|patients|subjects|cases)", re.I
    ),
    "intervention": re.compile(r"\binterventions?\b", re.I),
    "comparator": re.compile(r"\bcomparators?\b|\bcontrol (?:group|arm)s?\b", re.I),
    "outcomes": re.compile(r"\boutcomes?\b|\bend-?points?\b", re.I),
    "safety": re.compile(
        # "Safety outcomes" is safety, not the outcomes field (see _fields_named).
        r"\bsafety(?: (?:outcomes?|end-?points?))?\b|\btolerability\b"
        r"|\badverse (?:events?|effects?|reactions?)\b|\bharms?\b",
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
# a reported (reassuring) result, not missing data. What a study did not assess, measure
# or record it cannot have reported either.
_NOT_REPORTED_RE = re.compile(
    r"\b(?:did|does|do|was|were|is|are|has|have|had)\s+not\s+(?:\w+\s+)?"
    r"(?:report|reported|describe|described|specify|specified|provide|provided|state|stated|"
    r"present|presented|give|given|include|included|mention|mentioned|disclose|disclosed|"
    r"discuss|discussed|"
    r"assess|assessed|measure|measured|evaluate|evaluated|record|recorded|collect|collected|"
    r"document|documented|address|addressed)\b"
    r"|\bnot (?:reported|described|specified|provided|stated|available|assessed|measured|"
    r"recorded|documented|disclosed|discussed)\b"
    r"|\b(?:no|neither)\b[^.;]*?\b(?:was|were|is|are)\s+(?:reported|described|provided|given|"
    r"presented|available|specified|stated)\b"
    r"|\bno (?:information|data|details?|description|mention)\s+(?:on|about|regarding|"
    r"concerning|of|for)\b"
    r"|\bfailed to report\b|\bwithout reporting\b|\bunreported\b|\bunspecified\b"
    r"|\bundisclosed\b",
    re.I,
)
# "No adverse events were reported" reads both ways: the study reported none, or it did
# not report on them. Neither state is recorded for safety.
_AMBIGUOUS_SAFETY_RE = re.compile(
    r"\bno\s+(?:[\w-]+\s+){0,2}?(?:adverse (?:events?|effects?|reactions?)|side[- ]effects?|"
    r"complications?|harms?|toxicit(?:y|ies)|safety (?:concerns?|issues?|signals?))\b[^.;]*?"
    r"\b(?:was|were)\s+(?:reported|described|mentioned|documented|recorded)\b",
    re.I,
)
# A field named in a prepositional phrase after another ("effect sizes for the primary
# outcome", "the number of participants in the control group") only qualifies that one.
_MODIFIER_GAP_RE = re.compile(
    r"\s+(?:for|of|on|in|within|regarding|about)\s+(?:(?:the|a|an|its|their|each|any|both)\s+)?"
    r"(?:[\w-]+\s+){0,2}",
    re.I,
)
# A reason clause ("..., as the review did not analyse trials") is not about reporting.
# ", and" starts a clause of its own only when a verb follows within a few words ("..., and
# effect sizes are not applicable"); in "population, sample size, and outcomes" it lists.
_CLAUSE_SPLIT_RE = re.compile(
    r";|:|,\s+(?=(?:as|because|since|while|whereas|but|although|though|so)\b)"
    r"|\s+(?=(?:because|since|whereas|although)\b)"
    r"|,\s+and\s+(?=(?:[\w-]+\s+){1,4}?(?:is|are|was|were|did|does|do|has|have|had)\b)",
    re.I,
)
# The prose says the field does not apply ("effect sizes are not applicable").
_NOT_APPLICABLE_RE = re.compile(
    r"\bnot applicable\b|\binapplicable\b|\b(?:does|do|did) not apply\b", re.I
)

# "1,234"; a count after a digit and a space ("1 234") is a digit group, not a count.
_COUNT = r"(?<![\d.,])(?<!\d\s)(\d{1,3}(?:,\d{3})+|\d+)(?!\d|\.\d)"
_PEOPLE = (
    r"(?:(?:adult|paediatric|pediatric|elderly|older|young|male|female|healthy|eligible|"
    r"consecutive)\s+)*(?:patients|participants|subjects|adults|children|infants|"
    r"adolescents|women|men|individuals|people|persons|volunteers|residents|cases|eyes|"
    r"pregnancies)"
)
_RECRUITED = (
    r"(?:enrolled|included|randomi[sz]ed|randomly (?:assigned|allocated)|recruited|analy[sz]ed|"
    r"followed|studied|assessed|surveyed)"
)
_SAMPLE_SIZE_RES = [
    re.compile(
        rf"\b(?:enrolled|enrolling|included|including|randomi[sz]ed|randomi[sz]ing|"
        rf"randomly (?:assigned|allocated)|recruited|recruiting|involved|involving|comprised|"
        rf"comprising|analy[sz]ed|followed|studied|surveyed)\s+"
        rf"(?:a total of\s+|an? (?:sample|cohort) of\s+)?{_COUNT}\s+(?P<who>{_PEOPLE}\b[^.;]*)",
        re.I,
    ),
    # "of/in/among N patients" gives the sample only after the study itself ("a cohort study
    # of 312 patients"); "complications occurred in 12 patients" counts events.
    re.compile(
        r"\b(?:study|trial|cohort|analysis|series|survey|sample|review|audit|registry|"
        rf"experiment)s?\s+(?:[\w-]+\s+){{0,4}}?(?:of|with|among|in)\s+(?:a total of\s+)?"
        rf"{_COUNT}\s+(?P<who>{_PEOPLE}\b[^.;]*)",
        re.I,
    ),
    re.compile(
        rf"(?:^\s*|\btotal of\s+|,\s+){_COUNT}\s+(?P<who>{_PEOPLE})\s+(?:were|had been)\s+"
        rf"(?:\w+\s+)?{_RECRUITED}\b",
        re.I,
    ),
    re.compile(rf"\bsample (?:size )?(?:of|was|were|:|=)\s*{_COUNT}", re.I),
]
# Several "n =" in one summary are arm or subgroup sizes: none of them is the total.
_N_EQUALS_RE = re.compile(rf"\b[nN]\s*=\s*{_COUNT}")
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
        r"\b(?:randomi[sz]ed|randomly (?:assigned|allocated))\s+(?:[\w,-]+\s+){0,6}?to "
        r"(?:receive\s+)?([^.;]+?)\s+(?:or|versus|vs\.?)\s+",
        re.I,
    ),
]
_COMPARATOR_RES = [
    re.compile(r"\bcomparators? (?:was|were|consisted of|comprised)\s+([^.;,]+)", re.I),
    re.compile(r"\bcompared (?:with|to|against)\s+([^.;,]+)", re.I),
    re.compile(
        r"\b(?:randomi[sz]ed|randomly (?:assigned|allocated))\s+(?:[\w,-]+\s+){0,6}?to "
        r"(?:receive\s+)?[^.;]+?\s+(?:or|versus|vs\.?)\s+([^.;,]+)",
        re.I,
    ),
]
_OUTCOME_RES = [
    re.compile(
        r"\b(?:primary|main|secondary|principal) (?:outcomes?|end-?points?) (?:was|were|"
        r"will be|included|include|comprised|being)\s+([^.;]+)",
        re.I,
    ),
    re.compile(r"\boutcomes? (?:measured|assessed) (?:was|were|included)\s+([^.;]+)", re.I),
]
# Bare "complications" are often the outcome itself ("frailty predicted complications"); only
# those attributed to the treatment speak of its safety.
_SAFETY_REPORTED_RE = re.compile(
    r"\badverse (?:events?|effects?|reactions?)\b|\bside[- ]effects?\b|\bwell[- ]tolerated\b"
    r"|\bsafety profile\b|\bdiscontinu\w+ (?:due|because)\b"
    r"|\b(?:treatment|procedure|surgery|surgical|drug|intervention|device)[- ]related "
    r"(?:complications?|events?|toxicit(?:y|ies))\b",
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
    "weighted mean difference": "MD",
    "wmd": "MD",
    "standardi[sz]ed mean difference": "SMD",
    "smd": "SMD",
    "risk difference": "RD",
    "rd": "RD",
}
# Typeset and plain styles: "HR 0.83 [95% CI 0.71 to 0.97]; P = .02", "odds ratio of 1.45
# (95% confidence interval 1.20-1.75, p=0.003)", "hazard ratio (HR) 0.71, 95% CI: 0.60–0.84",
# "mean difference was 3.2 µg/L (95% CI [1.1, 5.3])". An interval without its level ("(0.70
# to 0.92)") is not read: it could be a range or an IQR.
_EFFECT_RE = re.compile(
    r"\b(?P<measure>(?i:standardi[sz]ed mean difference|weighted mean difference|"
    r"mean difference|odds ratio|risk ratio|relative risk|hazard ratio|risk difference)"
    r"|SMD|WMD|a?OR|a?RR|a?HR|MD|RD)\b"
    r"(?:\s*[(\[]a?[A-Z]{2,3}[)\]])?"  # "hazard ratio (HR) 0.71"
    r"(?:[\s,:=]|\b(?:was|were|is|of)\b)*"
    r"(?P<value>" + _NUMBER + r")"
    r"(?P<unit>\s*(?:%|[^\W\d_][^\W\d_/]*(?:/[^\W\d_]+)?(?:\s+[^\W\d_]+)?))?"
    r"(?:[,;\s(\[]*(?P<level>\d{2}(?:\.\d)?)\s*%\s*(?:CI|CrI|confidence interval|"
    r"credible interval)[\s,:]*[\[(]?"
    r"(?P<lower>" + _NUMBER + r")\s*%?\s*(?:to|\u2013|\u2014|,|-)\s*"
    r"(?P<upper>" + _NUMBER + r")\s*%?[\])]?)?"
    r"(?:[^.;]{0,20}?[;,]\s*[Pp](?:[- ]value)?\s*(?P<op>[=<>≤])\s*(?P<p>0?\.\d+))?",
)

# --- topics ---------------------------------------------------------------------------
_MAIN_RESULT_RE = re.compile(
    r"^(?:Its|The|Their|(?:This|The) (?:study|review|trial|analysis|meta-analysis)['\u2019]s) "
    r"(?:main|primary|principal|key|central|most important) (?:results?|findings?|"
    r"conclusions?)\b"
    r"|^(?:The|This|In this) (?:study|trial|review|analysis|meta-analysis|authors|"
    r"investigators),? (?:found|showed|demonstrated|observed) that\b",
    re.I,
)
_PRACTICE_RE = re.compile(
    r"^(?:The |Its )?(?:practice|clinical|practical) (?:relevance|implications?|"
    r"applicability)\b|^For (?:clinical )?practice\b|^For clinicians\b|^In practice\b"
    r"|^(?:The |Its )?(?:relevance|implications?) (?:for|to) (?:clinical )?practice\b",
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
# "No limitations were reported", "Limitations were not discussed", "The authors do not
# acknowledge any limitations": a statement about reporting, not a list of limitations.
_NO_LIMITATIONS_RE = re.compile(
    r"\b(?:no|neither)\s+(?:[\w-]+\s+)?(?:limitations?|weaknesses|shortcomings)\b"
    r"|\b(?:limitations?|weaknesses|shortcomings)\s+(?:[\w-]+\s+){0,3}?(?:were|was|are|is)\s+"
    r"not\b"
    r"|\bnot\s+(?:\w+\s+)?(?:any\s+|the\s+|its\s+|their\s+)?(?:limitations?|weaknesses)\b",
    re.I,
)
# "should:" introduces a list folded in by _join_lists.
_MODAL = (
    r"(?:should|must|need to|ought to|will need to|(?:is|are) (?:still )?(?:needed|required|"
    r"warranted) to)\s*:?"
)
_BARE_FUTURE_RE = re.compile(
    r"^(?:[\w-]+,?\s+){0,3}?(?:studies|research|trials|work|investigations?)\s+(?:is|are)\s+"
    r"(?:still\s+|clearly\s+|urgently\s+)?(?:needed|required|warranted)\.?$",
    re.I,
)
_FUTURE_RES = [
    re.compile(
        r"\b(?:propose|proposes|suggest|suggests|recommend|recommends|advocate|advocates|"
        r"urge|urges|argue|argues|conclude|concludes|note|notes)\s+that\s+(?:\w+\s+){0,2}?"
        r"(?:studies|research|trials|work|investigations?|efforts)\s+(?:should|must|need to|"
        r"ought to|could|would|will need to)\s*:?\s+(?P<body>.+?)\.?$",
        re.I,
    ),
    re.compile(
        r"\b(?:future|subsequent|further|larger|longer|additional|more)\s+(?:[\w-]+,?\s+){0,2}?"
        rf"(?:studies|research|trials|work)\s+{_MODAL}\s+(?P<body>.+?)\.?$",
        re.I,
    ),
    re.compile(
        r"\b(?:future|subsequent|further|larger|longer|additional|more)\s+(?:[\w-]+,?\s+){0,2}?"
        r"(?:studies|research|trials|work)\s+(?:is|are)\s+(?:still\s+)?(?:needed|required|"
        r"warranted)\s+(?P<prep>on|for|in|into|of)\s+(?P<body>.+?)\.?$",
        re.I,
    ),
    # "Randomized trials are needed to confirm ...": the need itself says it is future work.
    re.compile(
        r"^(?:[\w-]+,?\s+){0,3}?(?:studies|research|trials|work|investigations|data)\s+"
        r"(?:is|are)\s+(?:still\s+)?(?:needed|required|warranted)\s+to\s+(?P<body>.+?)\.?$",
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
    r";\s*(?:and\s+)?|,?\s+and\s+(?=(?:"
    + "|".join(sorted(_PROPOSAL_VERBS))
    + r")\b)|,\s+(?=(?:"
    + "|".join(sorted(_PROPOSAL_VERBS))
    + r")\b)",
    re.I,
)

_LIMITATION_CATEGORIES: list[tuple[str, re.Pattern[str]]] = [
    (
        "sample_size",
        re.compile(
            r"sample|underpowered|statistical power|few (?:patients|particip)"
            r"|single (?:patient|case|participant)",
            re.I,
        ),
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
            r"|control (?:group|arm)|cross-sectional",
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
    markers = list(_MARKER_RE.finditer(text))
    if len(markers) > 1:
        # Where one summary's abstract ends and the next summary's prose starts is not
        # marked, so several summaries in one file cannot be told apart.
        lines = [text.count("\n", 0, m.start()) + 1 for m in markers]
        raise ParseError(
            f"{len(markers)} 'View Original Abstract' markers (lines "
            f"{', '.join(map(str, lines))}): a file holds one evidence summary; split it into "
            "one file per summary",
            SourceLocation(location.source if location else "", line=lines[1]),
        )
    structured = _structured_abstract_start(text) if not markers else None
    if markers:
        prose, abstract_text = text[: markers[0].start()], text[markers[0].end() :]
    elif structured is not None:
        prose, abstract_text = text[:structured], text[structured:]
        record.warnings.append(
            "no 'View Original Abstract' marker: abstract taken from the structured abstract "
            f"at line {text.count(chr(10), 0, structured) + 1}"
        )
    else:
        prose, abstract_text = text, ""
        record.warnings.append("no 'View Original Abstract' marker: abstract left empty")
    paragraphs = [clean(part) for part in re.split(r"\n\s*\n", abstract_text) if clean(part)]
    record.abstract = "\n\n".join(paragraphs)
    if markers and not paragraphs:
        record.warnings.append(
            "nothing after the 'View Original Abstract' marker: abstract left empty "
            "(truncated file?)"
        )
    record.abstract_sections = split_abstract_sections(" ".join(paragraphs))
    sentences = _sentences(clean(_join_lists(prose)))
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
    record.effect_sizes = [
        effect for sentence in sentences for effect in _effect_sizes(sentence, appraisal.outcomes)
    ]
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


def _structured_abstract_start(text: str) -> int | None:
    """Offset of a structured abstract (two or more upper-case labels) in ``text``."""
    for match in _ABSTRACT_LABEL_LINE_RE.finditer(text):
        if len(split_abstract_sections(clean(text[match.start() :]))) >= 2:
            return match.start()
    return None


# "possible publication bias, and" / "... bias; or": the list's own punctuation.
_ITEM_END_RE = re.compile(r"(?:,?\s+(?:and|or))?[\s.;,]*$", re.I)


def _join_lists(prose: str) -> str:
    """Fold a list on its own lines into the sentence that introduces it.

    'Limitations:' / '1. the design;' / '2. the follow-up.' becomes 'Limitations: the
    design; the follow-up.', so the list reads like the prose the topic rules expect;
    semicolons then keep items apart even when they contain commas.
    """
    out: list[str] = []
    items: list[str] = []

    def flush() -> None:
        if not items:
            return
        lead = out.pop().rstrip() if out and out[-1].strip() else ""
        lead = re.sub(r"[.:;,]+$", "", lead)
        joined = "; ".join(items)
        out.append(f"{lead}: {joined}." if lead else f"{joined}.")
        items.clear()

    for line in prose.split("\n"):
        item = _LIST_ITEM_RE.match(line)
        if item:
            text = re.sub(r"^(?:and|or)\s+", "", item.group("text").strip(), flags=re.I)
            items.append(_ITEM_END_RE.sub("", text))
        elif items and line.strip() and line.strip()[0].islower():
            # A wrapped item: a new paragraph after a list starts with a capital.
            items[-1] = f"{items[-1]} {_ITEM_END_RE.sub('', line.strip())}"
        elif items and not line.strip():
            continue  # blank lines between items
        else:
            flush()
            out.append(line)
    flush()
    return "\n".join(out)


def _sentences(text: str) -> list[str]:
    # Split at a stop followed by a capital, except after common abbreviations.
    # A sentence may open with a count ("1,200 participants were surveyed").
    parts = re.split(
        r"(?<=[.!?])(?<!\be\.g\.)(?<!\bi\.e\.)(?<!\bvs\.)(?<!\bet al\.)(?<!\bapprox\.)"
        r"(?<!\bFig\.)(?<!\bNo\.)\s+(?=[A-Z]|\d[\d,]*\s+[^\W\d_])",
        text,
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
    not_applicable: set[str] = set()
    # Fields the prose speaks of ambiguously: left for a curator, whatever else is said.
    undecided: set[str] = set()
    for sentence in sentences:
        for clause in _CLAUSE_SPLIT_RE.split(sentence):
            if not clause:
                continue
            if _AMBIGUOUS_SAFETY_RE.search(clause):
                undecided.add("safety")
            elif _NOT_APPLICABLE_RE.search(clause):
                not_applicable.update(_fields_named(clause))
            elif _NOT_REPORTED_RE.search(clause):
                not_reported.update(_fields_named(clause))
    # Said to be both: the summary contradicts itself, so neither is recorded.
    undecided |= not_reported & not_applicable
    not_reported -= undecided
    not_applicable -= undecided
    for name in not_reported:
        setattr(appraisal, name, ReportedValue(ReportingState.NOT_REPORTED))
    for name in not_applicable:
        setattr(appraisal, name, ReportedValue(ReportingState.NOT_APPLICABLE))
    not_reported |= not_applicable

    def report(name: str, value: str) -> None:
        if (
            name not in not_reported
            and name not in undecided
            and getattr(appraisal, name).state == ReportingState.NOT_CURATED
        ):
            setattr(appraisal, name, ReportedValue(ReportingState.REPORTED, value.strip()))

    # Arm and subgroup sizes ("surgery (n = 30) ... physiotherapy (n = 26)") are no total.
    n_equals = {match.group(1) for s in sentences for match in _N_EQUALS_RE.finditer(s)}
    for sentence in sentences:
        # What future work should do or what a limitation lacks is not what the study
        # reported ("future trials should report adverse events").
        if _is_future(sentence) or _LIMITATION_RE.search(sentence):
            continue
        # Clause by clause, so "enrolled 120 patients but did not report ages" still counts.
        for clause in _CLAUSE_SPLIT_RE.split(sentence):
            if (
                clause
                and not _NOT_REPORTED_RE.search(clause)
                and not _NOT_APPLICABLE_RE.search(clause)
            ):
                _positive_reports(clause, sentence, report, single_n=len(n_equals) == 1)


def _fields_named(clause: str) -> set[str]:
    """The appraisal fields a clause is about, leaving out those that only qualify another.

    'Safety outcomes' names safety (the longer phrase wins); in 'effect sizes for the
    primary outcome' the outcome only says which effect sizes.
    """
    found = [
        (match.start(), match.end(), name)
        for name, pattern in _FIELD_KEYWORDS.items()
        for match in pattern.finditer(clause)
    ]
    names: set[str] = set()
    for start, end, name in found:
        inside = any(
            other != name and o_start <= start and end <= o_end and o_end - o_start > end - start
            for o_start, o_end, other in found
        )
        qualifying = any(
            other != name and o_end <= start and _MODIFIER_GAP_RE.fullmatch(clause[o_end:start])
            for _, o_end, other in found
        )
        if not inside and not qualifying:
            names.add(name)
    return names


def _positive_reports(
    clause: str,
    sentence: str,
    report: Callable[[str, str], None],
    *,
    single_n: bool = False,
) -> bool:
    """Record what the clause reports; True when it reported anything."""
    found = False
    for pattern in _SAMPLE_SIZE_RES:
        match = pattern.search(clause)
        if match:
            found = True
            report("sample_size", match.group(1).replace(",", ""))
            who = match.groupdict().get("who")
            if who and re.search(r"\b(?:with|aged|who|from|undergoing)\b", who):
                report("population", _trim_population(who))
            break
    else:
        # "(n = 40)" after a subgroup or an arm counts only part of the study.
        subgroup = re.search(r"\b(?:sub-?groups?|arms?|groups?|of whom|among whom)\b", clause, re.I)
        match = _N_EQUALS_RE.search(clause) if single_n and not subgroup else None
        if match:
            found = True
            report("sample_size", match.group(1).replace(",", ""))
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


# The sentence's own verb ends the people it counts: "A cohort study of 312 patients with
# osteonecrosis assessed core decompression"; "who were assessed" stays with them.
_MAIN_VERB_RE = re.compile(
    r"(?<!\bwho)(?<!\bthat)(?<!\bwere)(?<!\bwas)(?<!\bbeing)(?<!\bbe)(?<!\bhad)(?<!\bbeen)\s+"
    r"(?:assessed|evaluated|examined|investigated|explored|compared|tested|found|showed|"
    r"demonstrated|reported|suggested|concluded|observed|estimated|measured)\b.*$",
    re.I,
)


# "randomly assigned 450 patients with psoriasis to bimekizumab or placebo": the arms.
_ALLOCATION_RE = re.compile(r"\s+to (?:receive\s+)?[^.;]+?\s+(?:or|versus|vs\.?)\s+.*$", re.I)


def _trim_population(text: str) -> str:
    return _trim_phrase(_ALLOCATION_RE.sub("", _MAIN_VERB_RE.sub("", text)))


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
        elif _BARE_FUTURE_RE.search(sentence):
            current = topics.notes  # "Further research is warranted.": no direction to record
        elif _NO_LIMITATIONS_RE.search(sentence):
            current = topics.notes
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


# "and", "or" and inline enumerators "(1)", "2)", "(ii)" before a list item.
_ENUMERATOR_RE = re.compile(
    r"^\s*(?:(?:and|or)\s+)?(?:\(?(?:\d{1,2}|[ivx]{1,4}|[a-h])\)\s*)?(?:(?:and|or)\s+)?", re.I
)


def _has_top_level(text: str, char: str) -> bool:
    depth = 0
    for current in text:
        depth += (current in "([") - (current in ")]")
        if current == char and depth == 0:
            return True
    return False


_ITEM_START_RE = re.compile(
    r"^(?:a|an|the|no|lack|limited|small|short|insufficient|absence|inadequate|incomplete|"
    r"possible|potential|high|low|poor|reliance|use|unclear|missing)\b",
    re.I,
)


def _split_items(text: str) -> list[str]:
    """'A, B, and C' -> [A, B, C]; 'A and the B' -> [A, B]; commas in brackets kept.

    Semicolons, when present, are the separators and commas stay inside items ('recall
    bias; a single, small centre'); '(1) A, (2) B' loses its enumerators.
    """
    separator = ";" if _has_top_level(text, ";") else ","
    parts: list[str] = []
    depth = 0
    current = ""
    for char in text:
        depth += (char in "([") - (char in ")]")
        if char == separator and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    items = [_ENUMERATOR_RE.sub("", part).strip() for part in parts]
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


def _effect_sizes(sentence: str, outcomes: ReportedValue) -> list[EffectSizeRecord]:
    effects = []
    previous_end = 0
    for match in _EFFECT_RE.finditer(sentence):
        measure_text = match.group("measure")
        if measure_text.isupper() and measure_text == "OR" and not match.group("lower"):
            continue  # a bare "OR" + number without a CI is too likely to be prose
        if re.fullmatch(r"a[A-Z]{2}", measure_text):
            measure_text = measure_text[1:]  # "aOR": adjusted, the same measure
        measure = next(
            (code for name, code in _MEASURES.items() if re.fullmatch(name, measure_text, re.I)),
            "other",
        )
        effect = EffectSizeRecord(
            outcome=_effect_outcome(sentence[previous_end : match.start()], outcomes),
            measure=measure,
            value=_number(match.group("value")),
            ci_lower=_number(match.group("lower")),
            ci_upper=_number(match.group("upper")),
            # A percentage, as the model keeps it: "95% CI" is 95.
            ci_level=float(match.group("level")) if match.group("level") else None,
            note=_balanced_note(sentence, match),
        )
        if match.group("p") and match.group("op") == "=":
            effect.p_value = float(match.group("p"))
        effects.append(effect)
        previous_end = match.end()
    return effects


# What leads into an estimate without naming the outcome: "... (", ", and ", "was".
_OUTCOME_LEAD_RE = re.compile(r"^[\s,;:(\[]*(?:and|or|with|for)?\s+|[\s,;:(\[]+$", re.I)
_OUTCOME_MAX = 500  # EffectSize.outcome


def _effect_outcome(lead: str, outcomes: ReportedValue) -> str:
    """The outcome an estimate is about: the words before it in its sentence ("Pain fell
    more with drug A (MD -1.1 ...)"), or the summary's outcomes when the estimate opens
    the sentence. A summary names outcomes loosely; its record is flagged for curation."""
    text = " ".join(_OUTCOME_LEAD_RE.sub("", lead).split())
    if not text and outcomes.state == ReportingState.REPORTED:
        text = outcomes.value
    if len(text) > _OUTCOME_MAX:
        text = text[: _OUTCOME_MAX - 1].rstrip() + "…"
    return text or "outcome not named"


def _balanced_note(sentence: str, match: re.Match[str]) -> str:
    """The matched text with its brackets paired: the closer of an outer "(RR 0.66, 95% CI
    0.55-0.78)" is dropped, the one an opened "(95% CI [1.1, 5.3])" needs is taken along."""
    note = match.group(0).strip().rstrip(",;")
    pairs = {")": "(", "]": "["}
    while note and note[-1] in pairs and note.count(note[-1]) > note.count(pairs[note[-1]]):
        note = note[:-1].rstrip(",; ")
    rest = sentence[match.end() :]
    for char in rest:
        if char not in pairs or note.count(char) >= note.count(pairs[char]):
            break
        note += char
    return note


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
