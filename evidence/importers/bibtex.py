"""BibTeX/BibLaTeX (Zotero, Mendeley, JabRef, Google Scholar exports) to StudyRecords.

bibtexparser 2 splits the file into blocks and keeps going after a broken entry (it
becomes a "failed block", reported here as an InvalidRecord naming its line). Its
middlewares then resolve ``@string`` macros, strip the outer ``{...}``/``"..."`` and
split author lists on "and". Three gaps in the library are filled here:

- ``#`` concatenation (``title = pre # " and " # {post}``) is left unresolved by
  ``ResolveStringReferencesMiddleware``: ``_ResolveConcatenation`` evaluates it and
  reports undefined macros instead of importing the macro name as text;
- ``crossref`` is not implemented (a TODO in bibtexparser 2.1): missing fields are
  inherited from the cross-referenced entry below;
- ``LatexDecodingMiddleware`` is not used, because pylatexenc reads an unescaped ``%``
  as a comment and silently drops the rest of the value ("50% of patients" -> "50"),
  it would decode identifier fields (DOI, URL), and it skips author lists, whose
  braces we need to see to recognise group authors (``{World Health Organization}``).
  The same decoder is applied here, field by field, with ``%`` escaped first.

Exporters name and fill fields in their own ways (Scopus ``author_keywords`` and
``art_number``, Web of Science ``Times-Cited``, Better BibLaTeX extended names, EndNote's
one keyword per line, Crossref's HTML in titles...): each is read where its field is, and
tests/evidence/importers/test_bibtex_dialects.py holds one example of each.
Funding (tests/evidence/importers/test_bibtex_funding.py): Web of Science's
Funding-Acknowledgement and Funding-Text, Scopus's funding_details and its funding_text
(numbered "funding_text 1", "funding_text 2"... when there are several), biblatex's funding.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

import bibtexparser
from bibtexparser.library import Library
from bibtexparser.middlewares import (
    RemoveEnclosingMiddleware,
    ResolveStringReferencesMiddleware,
    SeparateCoAuthors,
)
from bibtexparser.middlewares.middleware import LibraryMiddleware
from bibtexparser.middlewares.names import parse_single_name_into_parts
from bibtexparser.model import (
    Block,
    DuplicateBlockKeyBlock,
    DuplicateFieldKeyBlock,
    Entry,
    ParsingFailedBlock,
)
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

from evidence.identifiers import (
    PMC_URL_RE,
    PUBMED_URL_RE,
    normalize_doi,
    normalize_pmcid,
    normalize_pmid,
)
from evidence.importers.medline import (
    add_identifier,
    author_from_name,
    initials_from,
    issns_in,
    looks_collective,
    parse_date,
    split_abstract_sections,
    unique,
)
from evidence.importers.records import (
    NEEDS_CURATION_WARNING,
    AuthorRecord,
    GrantRecord,
    InvalidRecord,
    JournalRecord,
    ParsedItem,
    ParseError,
    PublicationDate,
    SourceLocation,
    StudyRecord,
)
from evidence.importers.text import clean, read_text

__all__ = ["parse"]

_ENTRY_EXAMPLE = "no BibTeX entries found (expected entries like '@article{key, title = {...}}')"
# BibLaTeX data containers, not works.
_NON_WORK_TYPES = frozenset({"xdata", "set"})
_WARNINGS_KEY = "evidb_warnings"
_ORIGINAL_KEY = "evidb_original_key"
_MONTH_MACROS = frozenset(
    {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}
)
# Fields a cross-referencing entry does not take from its parent: they describe the
# parent work itself (its title becomes the child's booktitle instead).
_NOT_INHERITED = frozenset(
    {
        "title",
        "shorttitle",
        "subtitle",
        "abstract",
        "keywords",
        "doi",
        "pmid",
        "pmcid",
        "pmc",
        "eprint",
        "eprinttype",
        "url",
        "note",
        "annote",
        "file",
        "ids",
        "crossref",
        "pages",
    }
)
# Article numbers stand in for pages in article-numbered journals (PLOS ONE, BMJ):
# Scopus art_number, Web of Science Article-Number, ACM articleno, biblatex eid.
_ARTICLE_NUMBER_KEYS = ("art_number", "article-number", "articleno", "eid")
# Keyword fields in the order they are kept: Scopus author_keywords before its index
# keywords, Web of Science Keywords (the authors') before its Keywords-Plus.
_KEYWORD_KEYS = ("author_keywords", "keywords", "keywords-plus")
# What Wiley (and so the Cochrane Library) writes for an Early View article's volume and
# issue: a placeholder, not a value.
_PLACEHOLDERS = frozenset({"n/a"})
# Free-text funding fields, in whichever of them an entry has: Web of Science Funding-Text,
# Scopus funding_text ("funding_text 1", "funding_text 2"... since Scopus numbers them
# when a paper has several), biblatex funding. None of these exporters writes a
# competing-interests declaration.
_FUNDING_TEXT_KEY_RE = re.compile(r"^funding(?:[-_]text(?:\s*\d+)?)?$")
# Web of Science Funding-Acknowledgement: "Agency [id, id]; Agency" (older exports escape
# the bracket as "{[}", which decodes to "[").
_WOS_GRANT_IDS_RE = re.compile(r"^(.*?)\s*\[([^\[\]]*)\]$")
# Scopus funding_details, funders separated by "; ". Current exports write
# "Agency[, ACRONYM][, (id, id)]", where the agency's own name may hold commas
# ("Department of Science and Technology, Hubei Provincial People's Government"); 2018
# exports wrote "[grant id, ][ACRONYM, ]Agency", and a grant id Scopus could not attribute
# to a funder on its own ("Försvarsmakten; 2013-01199").
_SCOPUS_GRANT_IDS_RE = re.compile(r",?\s*\(([^()]*)\)$")
# A funder's acronym: one word with two capitals at least ("NIH", "NSFC", "CNPq", "FP7"),
# so that neither a name ("Wellcome") nor a grant number ("EP/C51839X/1") is one.
_FUNDER_ACRONYM_RE = re.compile(r"^(?=(?:[^A-Z]*[A-Z]){2})[A-Za-z0-9&.-]+$")
_PMID_NOTE_RE = re.compile(r"\bPMID:?\s*(\d{1,9})\b", re.IGNORECASE)
_PMCID_NOTE_RE = re.compile(r"\bPMCID:?\s*(PMC\d{1,9})\b", re.IGNORECASE)
_DOI_URL_RE = re.compile(r"https?://(?:dx\.)?doi\.org/\S+", re.IGNORECASE)
# TeXMed (PubMed to BibTeX) keys its entries "pmid31025164" and writes no pmid field.
# Five digits at least, so that a key like "pmid_2019" is not read as PMID 2019.
_PMID_KEY_RE = re.compile(r"^pmid[:_-]?(\d{5,9})$", re.IGNORECASE)
# Scopus "Cited by: 3; All Open Access" (2023 on) and "cited By 12" (before).
_CITED_BY_RE = re.compile(r"\bcited by:?\s*(\d+)", re.IGNORECASE)
# Wiley starts every abstract with the heading "Abstract" or "ABSTRACT"; "Abstract
# reasoning is..." (a lower-case word after it) is text and is kept.
_ABSTRACT_LABEL_RE = re.compile(r"^(?i:abstract)[:.]?\s+(?=[A-Z])")
# Publisher HTML that Crossref passes into its BibTeX (<i>, <sub>, <scp>, JATS and
# MathML tags), and Zotero rich text that Better BibTeX writes as {$<$}i{$>$}.
_HTML_TAG_RE = re.compile(
    r"</?(i|b|u|em|strong|sub|sup|scp|sc|span|p|br|div|mml:[\w-]+|jats:[\w-]+)"
    r"(?:\s[^<>]*)?/?>",
    re.IGNORECASE,
)
_HTML_BLOCK_TAGS = frozenset({"p", "br", "div", "jats:p", "jats:sec", "jats:title"})
_MATH_ANGLE_RE = re.compile(r"\$([<>])\$")
# "@article{title = ...": an entry whose key and comma were dropped (BibTeX requires the
# key). A comma is inserted so bibtexparser reads it as a keyless entry, like JabRef's
# "@Article{,". @string{name = ...} has the same shape and is left alone.
_KEYLESS_ENTRY_RE = re.compile(
    r"(@(?!(?:string|comment|preamble)\b)[A-Za-z]+\s*[{(])(?=\s*[A-Za-z][\w-]*\s*=)",
    re.IGNORECASE,
)
# LaTeX escapes reference managers write in DOIs and URLs (Mendeley "{\_}", "{\#}").
_VERBATIM_ESCAPE_RE = re.compile(r"\\([_&%#$~])")
# biblatex extended name format (Better BibLaTeX, biber):
# "family=Meer, given=Jan, prefix=van der, useprefix=false".
_EXTENDED_NAME_RE = re.compile(r"^\s*(?:family|given|prefix|suffix)(?:-i)?\s*=", re.IGNORECASE)
_UNESCAPED_PERCENT_RE = re.compile(r"(?<!\\)%")
_FAILED_KEY_RE = re.compile(r"@(\w+)\s*[{(]\s*([^,\s]*)")


def _build_decoder() -> LatexNodes2Text:
    # Configured as bibtexparser's LatexDecodingMiddleware: \url{x} is x, math verbatim.
    context = get_default_latex_context_db()
    context.add_context_category(
        "evidb-bibtex", prepend=True, macros=[MacroTextSpec("url", simplify_repl="%s")]
    )
    return LatexNodes2Text(latex_context=context, math_mode="verbatim")


_DECODER = _build_decoder()


# pylatexenc takes about 1.5 ms per value, which made it most of the parse time. The
# accent and letter macros reference managers write for non-ASCII names and titles are
# decoded by these patterns first; pylatexenc only sees what is left (math, \\emph...).
# A test checks these patterns against pylatexenc.
_ACCENTS = {
    "'": "\u0301",
    "`": "\u0300",
    "^": "\u0302",
    '"': "\u0308",
    "~": "\u0303",
    "=": "\u0304",
    ".": "\u0307",
    "u": "\u0306",
    "v": "\u030c",
    "H": "\u030b",
    "c": "\u0327",
    "k": "\u0328",
    "r": "\u030a",
}
_LETTERS = {
    "ae": "æ",
    "AE": "Æ",
    "oe": "œ",
    "OE": "Œ",
    "aa": "å",
    "AA": "Å",
    "ss": "ß",
    "th": "þ",
    "TH": "Þ",
    "dh": "ð",
    "DH": "Ð",
    "ng": "ŋ",
    "NG": "Ŋ",
    "o": "ø",
    "O": "Ø",
    "l": "ł",
    "L": "Ł",
    "i": "\u0131",  # dotless i
    "j": "\u0237",  # dotless j
}
# \\'a, \\'{a}, \\'{\\i}, \\v{c}, \\v c (letter accents need a brace or a space).
_ACCENT_RE = re.compile(
    r"\\(?:([\'`^\"~=.])\s*|([uvHckr])(?=[{\s]))(?:\{\s*(\\[ij]|[A-Za-z])\s*\}|\s*([A-Za-z]))"
)
_LETTER_RE = re.compile(
    r"\\(ae|AE|oe|OE|aa|AA|ss|th|TH|dh|DH|ng|NG|o|O|l|L|i|j)(?![A-Za-z])(?:\{\}| ?)"
)
_ESCAPED_RE = re.compile(r"\\([&%$#_{}])")
_ESCAPE_PLACEHOLDERS = {"{": "\x00", "}": "\x01"}
_DASHES_QUOTES = (("---", "\u2014"), ("--", "\u2013"), ("``", "\u201c"), ("''", "\u201d"))


def _decode_common_macros(value: str) -> str:
    def accent(match: re.Match[str]) -> str:
        letter = (match.group(3) or match.group(4)).lstrip("\\")
        mark = _ACCENTS[match.group(1) or match.group(2)]
        return unicodedata.normalize("NFC", letter + mark)

    value = _ACCENT_RE.sub(accent, value)
    value = _LETTER_RE.sub(lambda match: _LETTERS[match.group(1)], value)
    return value


def _latex_to_text(value: Any, warnings: list[str], *, field: str) -> str:
    """LaTeX markup to Unicode text: {\\'a} -> á, \\v{c} -> č, {\\th} -> þ, braces dropped."""
    if not isinstance(value, str) or not value:
        return ""
    if "$" in value:
        # Better BibTeX writes a literal < or > as {$<$} / {$>$}: text, not math.
        value = _MATH_ANGLE_RE.sub(r"\1", value)
    if "\\" in value:
        value = _decode_common_macros(value)
    unescaped = _ESCAPED_RE.sub("", value)
    if "\\" not in unescaped and "$" not in unescaped:
        # Plain text, protective braces, escaped & % $ # _ { }: no pylatexenc needed.
        text = _ESCAPED_RE.sub(lambda m: _ESCAPE_PLACEHOLDERS.get(m.group(1), m.group(1)), value)
        text = text.replace("{", "").replace("}", "").replace("~", " ")
        text = text.replace("\x00", "{").replace("\x01", "}")
        for latex, char in _DASHES_QUOTES:
            text = text.replace(latex, char)
        return clean(text)
    try:
        text = _DECODER.latex_to_text(_UNESCAPED_PERCENT_RE.sub(r"\\%", value))
    except Exception as exc:  # pylatexenc is tolerant, but a field must not stop the file
        warnings.append(f"{field}: LaTeX not decoded ({exc}); kept as written")
        text = value.replace("{", "").replace("}", "")
    return clean(text)


def _verbatim(value: Any) -> str:
    """Identifier fields: protective braces and escapes (``\\_``, ``\\#``) removed, no LaTeX."""
    if not isinstance(value, str):
        return ""
    return clean(_VERBATIM_ESCAPE_RE.sub(r"\1", value.replace("{", "").replace("}", "")))


def _without_markup(text: str) -> str:
    """Title or abstract text without the HTML tags some sources leave in it."""
    if "<" not in text:
        return text

    def replace(match: re.Match[str]) -> str:
        return " " if match.group(1).lower() in _HTML_BLOCK_TAGS else ""

    return clean(_HTML_TAG_RE.sub(replace, text))


def _unless_placeholder(value: str) -> str:
    return "" if value.casefold() in _PLACEHOLDERS else value


# ---------------------------------------------------------------------------------------
# Reading the file with bibtexparser
# ---------------------------------------------------------------------------------------


def _split_concatenation(value: str) -> list[str]:
    """'pre # " and " # {post}' -> ['pre', '" and "', '{post}'] (# outside braces/quotes)."""
    parts: list[str] = []
    depth = 0
    in_quotes = False
    start = 0
    index = 0
    while index < len(value):
        char = value[index]
        if char == "\\":
            index += 2
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth = max(depth - 1, 0)
        elif char == '"' and depth == 0:
            in_quotes = not in_quotes
        elif char == "#" and depth == 0 and not in_quotes:
            parts.append(value[start:index].strip())
            start = index + 1
        index += 1
    parts.append(value[start:].strip())
    return parts


def _is_enclosed(part: str) -> bool:
    return len(part) >= 2 and (
        (part[0] == "{" and part[-1] == "}") or (part[0] == '"' and part[-1] == '"')
    )


class _ResolveConcatenation(LibraryMiddleware):
    """Evaluate ``a # "b" # {c}`` and report references to undefined ``@string`` macros.

    Runs after ``ResolveStringReferencesMiddleware`` (which replaces whole-value
    references) and before ``RemoveEnclosingMiddleware``: the result is re-enclosed in
    braces so the latter strips it like any other value.
    """

    def transform(self, library: Library) -> Library:
        macros: dict[str, str] = {}
        for string in library.strings:
            if isinstance(string.value, str):
                macros[string.key.lower()] = self._evaluate(string.value, macros, [])
        for entry in library.entries:
            undefined: list[str] = []
            for field in entry.fields:
                value = field.value
                if not isinstance(value, str) or value.isdigit():
                    continue
                parts = _split_concatenation(value)
                if len(parts) == 1 and (_is_enclosed(parts[0]) or parts[0].isdigit()):
                    continue
                missing: list[str] = []
                field.value = "{" + self._evaluate(value, macros, missing) + "}"
                undefined.extend(f"{name!r} in field {field.key!r}" for name in missing)
            if undefined:
                entry.parser_metadata.setdefault(_WARNINGS_KEY, []).append(
                    "undefined @string macro " + ", ".join(undefined) + "; kept as text"
                )
        return library

    @staticmethod
    def _evaluate(value: str, macros: dict[str, str], missing: list[str]) -> str:
        pieces = []
        for part in _split_concatenation(value):
            if _is_enclosed(part):
                pieces.append(part[1:-1])
            elif part.isdigit() or not part:
                pieces.append(part)
            elif part.lower() in macros:
                pieces.append(macros[part.lower()])
            else:
                if part.lower() not in _MONTH_MACROS:
                    missing.append(part)
                pieces.append(part)
        return "".join(pieces)


def _repaired(blocks: list[Block]) -> list[Block]:
    """Entries the splitter flagged for duplicate field or entry keys, made usable.

    A repeated field keeps its first value and a repeated citation key gets a private
    suffix (the record is a different work more often than not); both are reported on
    the record. Field names are lower-cased, as BibTeX ignores their case.
    """
    seen_keys: dict[str, int] = {}
    repaired: list[Block] = []
    for block in blocks:
        warnings: list[str] = []
        if isinstance(block, DuplicateFieldKeyBlock | DuplicateBlockKeyBlock) and isinstance(
            block.ignore_error_block, Entry
        ):
            entry = block.ignore_error_block
        elif isinstance(block, Entry):
            entry = block
        else:
            repaired.append(block)
            continue
        fields = {}
        for field in entry.fields:
            key = field.key.strip().lower()
            if key in fields:
                if field.value != fields[key].value:
                    warnings.append(f"field {key!r} given twice; the first value kept")
                continue
            field.key = key
            fields[key] = field
        entry.fields = list(fields.values())
        original_key = entry.key
        count = seen_keys.get(original_key.lower(), 0)
        seen_keys[original_key.lower()] = count + 1
        if count:
            # Keyless entries (JabRef's "@Article{,") are not duplicates of each other.
            if original_key:
                warnings.append(f"citation key {original_key!r} used by an earlier entry too")
            entry.key = f"{original_key}\x00{count}"
        entry.set_parser_metadata(_ORIGINAL_KEY, original_key)
        entry.set_parser_metadata(_WARNINGS_KEY, warnings)
        repaired.append(entry)
    return repaired


def _read_library(text: str, source_name: str) -> Library:
    text = _KEYLESS_ENTRY_RE.sub(r"\1,", text)
    try:
        split = bibtexparser.parse_string(text, parse_stack=[])
        library = Library(_repaired(split.blocks), fail_on_duplicate_key=False)
        for middleware in (
            ResolveStringReferencesMiddleware(),
            _ResolveConcatenation(),
            RemoveEnclosingMiddleware(),
            SeparateCoAuthors(),
        ):
            library = middleware.transform(library=library)
    except Exception as exc:  # bibtexparser raises on its own internal errors only
        raise ParseError(f"BibTeX reader failed: {exc}", SourceLocation(source_name)) from exc
    return library


def parse(stream: BinaryIO, *, source_name: str = "") -> Iterator[ParsedItem]:
    """Yield one StudyRecord (or InvalidRecord) per BibTeX entry in ``stream``."""
    text, decode_warnings = read_text(stream, source_name=source_name)
    if not text.strip():
        raise ParseError(f"empty file: {_ENTRY_EXAMPLE}", SourceLocation(source_name))
    library = _read_library(text, source_name)
    blocks = [
        block
        for block in library.blocks
        if isinstance(block, ParsingFailedBlock)
        or (isinstance(block, Entry) and block.entry_type.lower() not in _NON_WORK_TYPES)
    ]
    if not blocks:
        first_line = next((n for n, line in enumerate(text.split("\n"), 1) if line.strip()), 1)
        raise ParseError(_ENTRY_EXAMPLE, SourceLocation(source_name, line=first_line))
    by_key = {
        str(entry.get_parser_metadata(_ORIGINAL_KEY) or entry.key).lower(): entry
        for entry in reversed(library.entries)  # the first of duplicate keys wins
    }
    for number, block in enumerate(blocks, start=1):
        line = block.start_line + 1 if block.start_line is not None else None
        location = SourceLocation(source_name, record=number, line=line)
        if not isinstance(block, Entry):
            yield InvalidRecord(location, _failure_reason(block))
            continue
        try:
            item = _build_record(block, location, by_key)
        except Exception as exc:  # one odd entry must not stop the file
            item = InvalidRecord(location, f"could not read entry {block.key!r}: {exc!r}")
        if isinstance(item, StudyRecord):
            item.warnings[:0] = decode_warnings
            decode_warnings = []  # said once, on the first record
        yield item


def _failure_reason(block: ParsingFailedBlock) -> str:
    error = block.error
    detail = getattr(error, "abort_reason", None) or str(error)
    found = _FAILED_KEY_RE.match((block.raw or "").lstrip())
    what = f"@{found.group(1)}{{{found.group(2)}" if found else "block"
    return f"BibTeX syntax error in {what}: {clean(detail)}"


# ---------------------------------------------------------------------------------------
# Entry to StudyRecord
# ---------------------------------------------------------------------------------------


def _field_values(entry: Entry, by_key: dict[str, Entry], warnings: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {field.key: field.value for field in entry.fields}
    crossref = _verbatim(values.get("crossref"))
    if not crossref:
        return values
    parent = by_key.get(crossref.lower())
    if parent is None or parent is entry:
        warnings.append(f"crossref: no entry {crossref!r} in this file")
        return values
    for field in parent.fields:
        # A proceedings volume's funding is not its papers' funding.
        if field.key.startswith("funding"):
            continue
        if field.key not in _NOT_INHERITED and field.key not in values:
            values[field.key] = field.value
    if "booktitle" not in values and "title" in parent:
        values["booktitle"] = parent["title"]
    return values


def _build_record(entry: Entry, location: SourceLocation, by_key: dict[str, Entry]) -> ParsedItem:
    warnings = list(entry.get_parser_metadata(_WARNINGS_KEY) or [])
    values = _field_values(entry, by_key, warnings)
    record = StudyRecord(location=location, warnings=warnings)

    def text(*keys: str) -> str:
        for key in keys:
            if value := _latex_to_text(values.get(key), record.warnings, field=key):
                return value
        return ""

    key = str(entry.get_parser_metadata(_ORIGINAL_KEY) or entry.key)
    record.title = _without_markup(text("title"))
    _read_identifiers(record, values, text, key=key)
    record.abstract = _ABSTRACT_LABEL_RE.sub("", _without_markup(text("abstract")))
    if not record.title and not (record.pmid or record.doi or record.pmcid):
        if not record.abstract:
            return InvalidRecord(
                location,
                f"entry {key!r} has neither a title, an identifier (doi/pmid) nor an abstract",
            )
        record.warnings.append(NEEDS_CURATION_WARNING)
    record.abstract_sections = split_abstract_sections(record.abstract)
    record.language = text("language", "langid")
    record.volume = _unless_placeholder(text("volume"))
    record.issue = _unless_placeholder(text("number", "issue"))
    record.pages = _pages(values)
    record.pub_date = _publication_date(record, values)
    record.journal = _journal(record, values, text)
    record.keywords = unique(
        [
            keyword
            for field in _KEYWORD_KEYS
            for keyword in _keywords(values.get(field), record.warnings, field)
        ]
    )
    record.citation_count = _citation_count(values)
    record.grants = _grants(values, record.warnings)
    record.funding_statement = "\n\n".join(
        unique([text(key) for key in values if _FUNDING_TEXT_KEY_RE.match(key)])
    )
    record.authors = _authors(values.get("author"), record.warnings)
    if not record.authors and values.get("editor"):
        record.authors = _authors(values.get("editor"), record.warnings)
        if record.authors:
            record.warnings.append("no author field: editors listed as authors")
    return record


def _pages(values: dict[str, Any]) -> str:
    pages = _unless_placeholder(_verbatim(values.get("pages")))
    if not pages:
        pages = next(
            (number for key in _ARTICLE_NUMBER_KEYS if (number := _verbatim(values.get(key)))),
            "",
        )
    return re.sub(r"\s*(?:-+|\u2013|\u2014)\s*", "-", pages)


def _keywords(value: Any, warnings: list[str], key: str) -> list[str]:
    """'a; b', 'a, b', or one keyword per line as EndNote writes them."""
    keywords = _latex_to_text(value, warnings, field=key)
    if ";" in keywords:
        return [keyword.strip() for keyword in keywords.split(";")]
    if "," in keywords:
        return [keyword.strip() for keyword in keywords.split(",")]
    if isinstance(value, str) and "\n" in value.strip():
        return [_latex_to_text(line, warnings, field=key) for line in value.split("\n")]
    return [keywords]


def _citation_count(values: dict[str, Any]) -> int | None:
    """Web of Science ``Times-Cited``, or Scopus's count in ``note``."""
    times_cited = _verbatim(values.get("times-cited"))
    if times_cited.isdigit():
        return int(times_cited)
    if found := _CITED_BY_RE.search(_verbatim(values.get("note"))):
        return int(found.group(1))
    return None


def _grants(values: dict[str, Any], warnings: list[str]) -> list[GrantRecord]:
    """Web of Science Funding-Acknowledgement and Scopus funding_details, one GrantRecord
    per agency and grant id, the first of each kept."""
    wos = _latex_to_text(values.get("funding-acknowledgement"), warnings, field="funding")
    scopus = _latex_to_text(values.get("funding_details"), warnings, field="funding")
    grants = _wos_grants(wos) + _scopus_grants(scopus)
    # Scopus names a funder again without its grant ids ("National Natural Science
    # Foundation of China, NSFC, (81871234); National Natural Science Foundation of China,
    # NSFC"): the bare repeat adds nothing to the funder's numbered grants.
    with_ids = {grant.agency.casefold() for grant in grants if grant.grant_id}
    seen: set[tuple[str, str]] = set()
    kept: list[GrantRecord] = []
    for grant in grants:
        key = (grant.agency.casefold(), grant.grant_id.casefold())
        if key in seen or (not grant.grant_id and key[0] in with_ids):
            continue
        seen.add(key)
        kept.append(grant)
    return kept


def _grant_ids(ids: str) -> list[str]:
    """'81871234, 81671234' in two; no ids at all is one grant without an id."""
    return [grant_id for part in ids.split(",") if (grant_id := part.strip())] or [""]


def _looks_like_grant_id(text: str) -> bool:
    """'2013-01199', 'EP/C51839X/1', 'R01 GM12345': more digits than letters."""
    return sum(char.isdigit() for char in text) > sum(char.isalpha() for char in text)


def _wos_grants(funding: str) -> list[GrantRecord]:
    """'National Natural Science Foundation of China [81871234, 81671234]; Saab AB'."""
    grants: list[GrantRecord] = []
    for item in _split_top_level(funding, ";", "[]"):
        agency, ids = item.strip(), ""
        if found := _WOS_GRANT_IDS_RE.match(agency):
            agency, ids = found.group(1).strip(), found.group(2)
        if agency:
            grants.extend(GrantRecord(agency=agency, grant_id=i) for i in _grant_ids(ids))
    return grants


def _scopus_grants(funding: str) -> list[GrantRecord]:
    """'National Institutes of Health, NIH, (R01CA123456, R21CA654321)' (current exports),
    'EP/C51839X/1, EPSRC, Engineering and Physical Sciences Research Council' (2018)."""
    grants: list[GrantRecord] = []
    for item in _split_top_level(funding, ";", "()"):
        item, ids = item.strip(), ""
        if found := _SCOPUS_GRANT_IDS_RE.search(item):
            item, ids = item[: found.start()], found.group(1)
        parts = [part.strip() for part in item.split(",") if part.strip()]
        acronym = ""
        if len(parts) > 1 and _FUNDER_ACRONYM_RE.match(parts[-1]):
            acronym = parts.pop()
        elif not ids and len(parts) > 1 and _looks_like_grant_id(parts[0]):
            ids = parts.pop(0)  # 2018: "id, ACRONYM, Agency" or "id, Agency"
            if len(parts) > 1 and _FUNDER_ACRONYM_RE.match(parts[0]):
                acronym = parts.pop(0)
        elif not ids and len(parts) > 1 and _FUNDER_ACRONYM_RE.match(parts[0]):
            acronym = parts.pop(0)  # 2018: "ACRONYM, Agency"
        elif len(parts) == 1 and _looks_like_grant_id(parts[0]):
            continue  # a grant id Scopus did not attribute to any funder
        agency = ", ".join(parts)
        if agency:
            grants.extend(
                GrantRecord(agency=agency, grant_id=grant_id, acronym=acronym)
                for grant_id in _grant_ids(ids)
            )
    return grants


def _read_identifiers(
    record: StudyRecord, values: dict[str, Any], text: Callable[..., str], *, key: str
) -> None:
    add_identifier(record, "doi", normalize_doi, _verbatim(values.get("doi")), field="doi")
    url = _verbatim(values.get("url"))
    if not record.doi:
        for doi_url in _DOI_URL_RE.findall(url):
            add_identifier(record, "doi", normalize_doi, doi_url, field="url")
    # Scopus names the field pubmed_id.
    for field in ("pmid", "pubmed_id"):
        add_identifier(record, "pmid", normalize_pmid, _verbatim(values.get(field)), field=field)
    for field in ("pmcid", "pmc"):
        add_identifier(record, "pmcid", normalize_pmcid, _verbatim(values.get(field)), field=field)
    eprint_type = _verbatim(values.get("eprinttype") or values.get("archiveprefix")).lower()
    eprint = _verbatim(values.get("eprint"))
    if eprint_type in ("pubmed", "pmid"):
        add_identifier(record, "pmid", normalize_pmid, eprint, field="eprint")
    elif eprint_type in ("pmc", "pmcid", "pubmedcentral"):
        add_identifier(record, "pmcid", normalize_pmcid, eprint, field="eprint")
    # Zotero writes "note = {{PMID:} 23439512}" and keeps PMCIDs in notes as well.
    for field in ("note", "annote", "annotation", "extra"):
        note = text(field)
        if found := _PMID_NOTE_RE.search(note):
            add_identifier(record, "pmid", normalize_pmid, found.group(1), field=field)
        if found := _PMCID_NOTE_RE.search(note):
            add_identifier(record, "pmcid", normalize_pmcid, found.group(1), field=field)
    if found := PUBMED_URL_RE.search(url):
        add_identifier(record, "pmid", normalize_pmid, found.group(1), field="url")
    if found := PMC_URL_RE.search(url):
        add_identifier(record, "pmcid", normalize_pmcid, found.group(1), field="url")
    if found := _PMID_KEY_RE.match(key):
        add_identifier(record, "pmid", normalize_pmid, found.group(1), field="citation key")


def _publication_date(record: StudyRecord, values: dict[str, Any]) -> PublicationDate:
    """BibLaTeX ``date = {2013-03-12}``, else ``year`` + ``month`` (``mar``, ``3``) + ``day``."""
    date = _verbatim(values.get("date"))
    if date:
        return parse_date(date, field="date", warnings=record.warnings)
    year = _verbatim(values.get("year"))
    if not year:
        return PublicationDate()
    month = _verbatim(values.get("month"))
    day = _verbatim(values.get("day"))
    parts = [part for part in (year, month, day) if part]
    composed = "/".join(parts) if month.isdigit() else " ".join(parts)
    return parse_date(composed, field="year", warnings=record.warnings)


def _journal(
    record: StudyRecord, values: dict[str, Any], text: Callable[..., str]
) -> JournalRecord | None:
    found: dict[str, list[str]] = {}
    # Web of Science gives the electronic ISSN its own field; others list both in issn.
    for field in ("issn", "eissn"):
        issn_text = _verbatim(values.get(field))
        if issn_text:
            found[field] = issns_in(issn_text)
            if not found[field]:
                record.warnings.append(f"{field}: not an ISSN: {issn_text!r}; value dropped")
    issns = found.get("issn", [])
    eissns = found.get("eissn", []) or issns[1:]
    journal = JournalRecord(
        title=text("journaltitle", "journal"),
        # Scopus writes the ISO abbreviation in abbrev_source_title.
        iso_abbreviation=text("shortjournal", "journalabbr", "journal-iso", "abbrev_source_title"),
        issn=issns[0] if issns else "",
        eissn=eissns[0] if eissns else "",
        publisher=text("publisher"),
    )
    if not any((journal.title, journal.iso_abbreviation, journal.issn, journal.publisher)):
        return None
    return journal


def _wholly_braced(name: str) -> bool:
    """'{World Health Organization}': the first brace closes at the very end."""
    if not (name.startswith("{") and name.endswith("}")):
        return False
    depth = 0
    for index, char in enumerate(name):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return index == len(name) - 1
    return False


def _authors(names: Any, warnings: list[str]) -> list[AuthorRecord]:
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, list):
        return []
    authors: list[AuthorRecord] = []
    for raw in names:
        name = raw.strip() if isinstance(raw, str) else ""
        if not name or name.lower() == "others":  # "and others" is et al.
            continue
        if _EXTENDED_NAME_RE.match(name):
            if (author := _extended_name(name, warnings)) is not None:
                authors.append(author)
            continue
        if _wholly_braced(name):
            # Braces protect a name from being split: that is how BibTeX spells group authors.
            collective = _latex_to_text(name, warnings, field="author")
            if collective:
                authors.append(AuthorRecord(collective_name=collective))
            continue
        decoded = _latex_to_text(name, warnings, field="author")
        if looks_collective(decoded):
            authors.append(AuthorRecord(collective_name=decoded))
            continue
        parts = parse_single_name_into_parts(name, strict=False)
        last = _latex_to_text(" ".join(parts.von + parts.last), warnings, field="author")
        fore = _latex_to_text(" ".join(parts.first), warnings, field="author")
        if not last:
            fallback = author_from_name(decoded)
            if fallback is not None:
                authors.append(fallback)
            continue
        authors.append(AuthorRecord(last_name=last, fore_name=fore, initials=initials_from(fore)))
    return authors


def _split_top_level(value: str, separator: str, brackets: str = "{}") -> list[str]:
    """Split on ``separator`` outside braces (or other ``brackets``): 'given={Jan, Jr},
    family=X' in two."""
    opening, closing = brackets
    parts: list[str] = []
    depth = 0
    start = 0
    for index, char in enumerate(value):
        if char == opening:
            depth += 1
        elif char == closing:
            depth = max(depth - 1, 0)
        elif char == separator and depth == 0:
            parts.append(value[start:index])
            start = index + 1
    parts.append(value[start:])
    return parts


def _extended_name(name: str, warnings: list[str]) -> AuthorRecord | None:
    """biblatex 'family=Meer, given=Jan, prefix=van der, useprefix=false' to an author.

    ``useprefix`` only decides how the name sorts; the prefix is part of the surname.
    """
    parts: dict[str, str] = {}
    for part in _split_top_level(name, ","):
        label, _, value = part.partition("=")
        parts[label.strip().lower()] = _latex_to_text(value, warnings, field="author")
    last = " ".join(part for part in (parts.get("prefix", ""), parts.get("family", "")) if part)
    fore = parts.get("given", "")
    if not last:
        return author_from_name(fore)
    return AuthorRecord(last_name=last, fore_name=fore, initials=initials_from(fore))
