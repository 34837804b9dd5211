"""Normalisation of study identifiers: the one definition used by parsers, models and API.

Each ``normalize_*`` returns the canonical form, or ``""`` when the input is empty, and
raises ``InvalidIdentifier`` when the input is present but cannot be an identifier of
that kind, so callers can name the offending field.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

__all__ = [
    "PMC_URL_RE",
    "PUBMED_URL_RE",
    "InvalidIdentifier",
    "normalize_doi",
    "normalize_issn",
    "normalize_orcid",
    "normalize_pmcid",
    "normalize_pmid",
    "normalize_title",
]


class InvalidIdentifier(ValueError):
    pass


_PMID_RE = re.compile(r"^(?:pmid:?\s*)?0*(\d{1,9})$", re.IGNORECASE)
# Registrant codes are digits with optional dot-separated sub-codes; suffix is anything.
_DOI_RE = re.compile(r"^10\.\d{4,9}(?:\.\d+)*/\S+$")
_DOI_PREFIX_RE = re.compile(
    r"^(?:doi:\s*|https?://(?:dx\.)?doi\.org/|(?:dx\.)?doi\.org/)", re.IGNORECASE
)
# The width of the DOI columns (Study.doi, Work.doi).
MAX_DOI_LENGTH = 255
_DOI_SUFFIX_RE = re.compile(r"\s*\[doi\]$", re.IGNORECASE)
_PMCID_RE = re.compile(r"^(?:pmc(?:id)?:?\s*)?(?:pmc)?0*(\d{1,9})$", re.IGNORECASE)
_ORCID_RE = re.compile(r"(\d{4})-?(\d{4})-?(\d{4})-?(\d{3}[\dX])$", re.IGNORECASE)
_ISSN_RE = re.compile(r"^(\d{4})-?(\d{3}[\dX])$", re.IGNORECASE)
# Links that name a PubMed record or a PMC article: reference managers (EndNote, Mendeley,
# Zotero, Citavi) often keep a record's PMID or PMCID nowhere else. Group 1 is the ID.
PUBMED_URL_RE = re.compile(
    r"(?:ncbi\.nlm\.nih\.gov/pubmed/|pubmed\.ncbi\.nlm\.nih\.gov/"
    r"|europepmc\.org/(?:article|abstract)/MED/)(\d{1,9})(?!\d)",
    re.IGNORECASE,
)
PMC_URL_RE = re.compile(
    r"(?:ncbi\.nlm\.nih\.gov/pmc/articles/|pmc\.ncbi\.nlm\.nih\.gov/articles/"
    r"|europepmc\.org/(?:articles?|abstract)/(?:PMC/)?)(PMC\d{1,9})(?!\d)",
    re.IGNORECASE,
)


def normalize_pmid(value: str | int | None) -> str:
    """'PMID: 0033081809' -> '33081809'. PubMed IDs are positive integers."""
    if value is None:
        return ""
    text = str(value).strip()
    if not text:
        return ""
    if text.isascii() and text.isdigit() and len(text) <= 9 and text[0] != "0":
        return text  # the common case, as PubMed writes it: no regex needed
    match = _PMID_RE.match(text)
    if not match or int(match.group(1)) == 0:
        raise InvalidIdentifier(f"not a PubMed ID: {text!r}")
    return match.group(1)


def normalize_doi(value: str | None) -> str:
    """'https://doi.org/10.1186/S12967-020-02592-4' -> '10.1186/s12967-020-02592-4'.

    DOIs are case-insensitive by definition (ISO 26324), so lower case is canonical.
    """
    if value is None:
        return ""
    text = value.strip()
    if not text:
        return ""
    text = _DOI_PREFIX_RE.sub("", text).strip()
    # Exports sometimes append "[doi]" (MEDLINE LID) or trailing punctuation.
    text = _DOI_SUFFIX_RE.sub("", text).rstrip(".,;")
    text = text.lower()
    if not _DOI_RE.match(text):
        raise InvalidIdentifier(f"not a DOI: {value.strip()!r}")
    if len(text) > MAX_DOI_LENGTH:
        # Real DOIs are far shorter; a longer one is a link or two fields run together.
        raise InvalidIdentifier(f"not a DOI (over {MAX_DOI_LENGTH} characters): {text[:80]!r}...")
    return text


def normalize_pmcid(value: str | int | None) -> str:
    """'pmc 4821226' / '4821226' -> 'PMC4821226'."""
    if value is None:
        return ""
    text = str(value).strip().replace(" ", "")
    if not text:
        return ""
    match = _PMCID_RE.match(text)
    if not match or int(match.group(1)) == 0:
        raise InvalidIdentifier(f"not a PubMed Central ID: {str(value).strip()!r}")
    return f"PMC{match.group(1)}"


def normalize_orcid(value: str | None) -> str:
    """'https://orcid.org/0000-0002-1825-0097' -> '0000-0002-1825-0097'."""
    if value is None:
        return ""
    text = value.strip()
    if not text:
        return ""
    match = _ORCID_RE.search(text.replace(" ", ""))
    if not match:
        raise InvalidIdentifier(f"not an ORCID iD: {text!r}")
    return "-".join(match.groups()).upper()


def normalize_issn(value: str | None) -> str:
    """'0028-4793' / '00284793' -> '0028-4793'."""
    if value is None:
        return ""
    text = value.strip()
    if not text:
        return ""
    match = _ISSN_RE.match(text)
    if not match:
        raise InvalidIdentifier(f"not an ISSN: {text!r}")
    return f"{match.group(1)}-{match.group(2).upper()}"


# Any run of non-letters/digits (Unicode-aware: Cyrillic or Greek titles keep a key).
_NON_ALNUM_RE = re.compile(r"[\W_]+")


def normalize_title(value: str | None) -> str:
    """A matching key for titles: accents folded, case and punctuation ignored.

    'Mesenchymal Stromal Cells for Osteonecrosis.' and 'mesenchymal stromal cells
    for osteonecrosis' give the same key, so a study found by title with year matches.
    """
    if not value:
        return ""
    if not value.isascii():  # most titles and names: nothing to decompose
        decomposed = unicodedata.normalize("NFKD", value)
        value = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_ALNUM_RE.sub(" ", value.casefold()).strip()[:500]


def abstract_digest(text: str) -> str:
    """Key of an abstract whatever its white space and case, or "" for none.

    An evidence summary carries only its study's original abstract; this is how it finds
    that study, by an index lookup. A digest, not the text, so the index stays small.
    """
    key = " ".join(text.split()).casefold()
    if not key:
        return ""
    return hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
