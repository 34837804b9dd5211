"""BibTeX entries with stable citation keys, for LaTeX users and reference managers.

Text is UTF-8 as is (biber, bibtexparser and every modern manager read it); only the
characters that would break the entry or the LaTeX run are escaped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator

from evidence.exporters.common import (
    MONTH_ABBREVIATIONS,
    abstract_text,
    full_pages,
    inverted_name,
    is_book,
    is_book_chapter,
    one_line,
    publication_year,
    pubmed_url,
    subject_terms,
)
from evidence.importers.records import StudyRecord

_LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_LATEX_SPECIALS_RE = re.compile("|".join(re.escape(char) for char in _LATEX_SPECIALS))
_KEY_WORD_RE = re.compile(r"[a-z0-9]+")
# Words that make poor citation keys ("smith2020the").
_STOP_WORDS = frozenset(
    {"a", "an", "the", "of", "on", "in", "for", "and", "or", "to", "with", "by", "at"}
    | {"from", "is", "are", "as", "its", "into", "via"}
)


def escape_latex(value: str) -> str:
    return _LATEX_SPECIALS_RE.sub(lambda match: _LATEX_SPECIALS[match.group(0)], value)


def _verbatim(value: str) -> str:
    """DOIs and URLs are verbatim fields in biblatex: '\\_' would end up in the link.

    Only braces matter to the .bib syntax; DOIs essentially never contain them.
    """
    return value.replace("{", "").replace("}", "")


def _words(value: str) -> list[str]:
    """ASCII words of a text, accents folded: 'Müller' -> ['muller']."""
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    return _KEY_WORD_RE.findall("".join(char for char in decomposed if char.isascii()))


def _ascii_word(value: str) -> str:
    return "".join(_words(value))


def citation_key(record: StudyRecord) -> str:
    """'pmid33081809' when there is a PMID, else 'lastname2020firstword'."""
    if record.pmid:
        return f"pmid{record.pmid}"
    name = ""
    if record.authors:
        first = record.authors[0]
        name = _ascii_word(first.last_name or next(iter(first.collective_name.split()), ""))
    year = publication_year(record.pub_date)
    title_words = [word for word in _words(record.title) if word not in _STOP_WORDS]
    if not (name or year or title_words) and record.doi:
        return "doi" + "".join(_words(record.doi))
    return f"{name or 'anon'}{year or ''}{title_words[0] if title_words else ''}"


def _entry_type(record: StudyRecord) -> str:
    if is_book_chapter(record):
        return "incollection"
    if is_book(record):
        return "book"
    return "article"


def _author_field(record: StudyRecord) -> str:
    names = []
    for author in record.authors:
        name = escape_latex(inverted_name(author))
        # Braces keep a group author ("EPOCH Collaborators") from being split into names.
        names.append(f"{{{name}}}" if author.collective_name and not author.last_name else name)
    return " and ".join(names)


def format_entry(record: StudyRecord, key: str) -> str:
    journal = record.journal
    date = record.pub_date
    fields: list[tuple[str, str]] = [
        ("title", escape_latex(one_line(record.title))),
        ("author", _author_field(record)),
    ]
    if journal is not None:
        container = "booktitle" if is_book_chapter(record) else "journal"
        if not is_book(record) or is_book_chapter(record):
            fields.append((container, escape_latex(journal.title)))
        fields.append(("publisher", escape_latex(journal.publisher)))
        fields.append(("issn", escape_latex(journal.issn or journal.eissn)))
    year = publication_year(date)
    fields += [
        ("year", str(year) if year else ""),
        ("month", MONTH_ABBREVIATIONS[date.month - 1].lower() if date.month else ""),
        ("volume", escape_latex(record.volume)),
        ("number", escape_latex(record.issue)),
        ("pages", escape_latex(full_pages(record.pages, separator="--"))),
        ("doi", _verbatim(record.doi)),
        ("pmid", record.pmid),
        ("pmcid", record.pmcid),
        ("url", _verbatim(pubmed_url(record))),
        ("language", escape_latex(record.language)),
        ("keywords", escape_latex(", ".join(subject_terms(record)))),
        ("abstract", escape_latex(one_line(abstract_text(record)))),
    ]
    body = []
    for name, value in fields:
        if not value:
            continue
        # Month macros (jan, feb...) are written bare, as BibTeX styles expect.
        rendered = value if name == "month" else f"{{{value}}}"
        body.append(f"  {name} = {rendered}")
    return f"@{_entry_type(record)}{{{key},\n" + ",\n".join(body) + "\n}\n\n"


def write_bibtex(records: Iterable[StudyRecord]) -> Iterator[str]:
    # Keys must be unique in a file; only keys without a PMID can collide, so only
    # those are remembered (a 100,000-study export keeps a small set).
    used: dict[str, int] = {}
    for record in records:
        key = citation_key(record)
        if not record.pmid:
            count = used.get(key, 0)
            used[key] = count + 1
            if count:
                key = f"{key}-{count + 1}"
        yield format_entry(record, key)
