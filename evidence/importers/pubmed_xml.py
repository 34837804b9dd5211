"""PubMed XML to records: efetch ``PubmedArticleSet`` and the annual baseline / daily updates.

``parse()`` streams: lxml ``iterparse`` reports each ``PubmedArticle``,
``PubmedBookArticle`` and ``DeleteCitation`` when it ends, the record is read and the
element is cleared and unlinked, so a multi-gigabyte baseline file needs no more memory
than one record. MEDLINE baseline files before 2017 (``MedlineCitationSet`` of bare
``MedlineCitation``) are read the same way.

Hostile XML is refused before lxml sees it: a DOCTYPE whose internal subset declares
entities (billion laughs, external entities / XXE) is a ``ParseError``. PubMed's own
``<!DOCTYPE PubmedArticleSet PUBLIC ... "pubmed_250101.dtd">`` has no internal subset and
is accepted; its DTD is never loaded, and the parser never touches the network or resolves
entities, whatever the prolog says.

Fields are read by walking children and dispatching on the tag (no XPath per record):
baseline records carry dozens of references and MeSH headings, and the import benchmark
needs roughly a thousand full records a second.
"""

from __future__ import annotations

import calendar
import hashlib
import re
from collections import Counter
from collections.abc import Callable, Generator, Iterator, Sequence
from typing import BinaryIO

from lxml import etree

from evidence.identifiers import (
    InvalidIdentifier,
    normalize_doi,
    normalize_issn,
    normalize_orcid,
    normalize_pmcid,
    normalize_pmid,
)
from evidence.importers.records import (
    AbstractSectionRecord,
    AuthorRecord,
    DeletedCitations,
    GrantRecord,
    InvalidRecord,
    JournalRecord,
    KnownQuery,
    KnownRecord,
    MeshHeadingRecord,
    MeshQualifierRecord,
    ParsedItem,
    ParseError,
    PublicationDate,
    PublicationTypeRecord,
    RelatedArticleRecord,
    SourceLocation,
    StudyRecord,
    WorkRecord,
)
from evidence.importers.text import clean

__all__ = ["parse"]

# MedlineCitationSet: the MEDLINE baseline and update files up to 2016 (medline16n*.xml),
# whose records are bare MedlineCitation elements without PubmedData.
_MEDLINE_ROOT = "MedlineCitationSet"
_ROOT_TAGS = frozenset({"PubmedArticleSet", "PubmedBookArticleSet", _MEDLINE_ROOT})
# DeleteDocument is the book-side twin of DeleteCitation in older PubMed DTDs.
_DELETE_TAGS = frozenset({"DeleteCitation", "DeleteDocument"})
_RECORD_TAGS = ("PubmedArticle", "PubmedBookArticle", *sorted(_DELETE_TAGS))
# Chosen by the root element: inside a PubmedArticle, MedlineCitation is only a part.
_MEDLINE_RECORD_TAGS = ("MedlineCitation", *sorted(_DELETE_TAGS))
# libxml2's namespace errors (undeclared prefix...) leave the document well-formed XML;
# lxml raises them only once the whole document has been parsed.
_NAMESPACE_ERRORS = frozenset(
    code for name, code in vars(etree.ErrorTypes).items() if name.startswith("NS_ERR_")
)

# Never load a DTD, never resolve an entity, never fetch anything; keep libxml2's limits
# on text size and nesting depth (huge_tree=False).
_PARSER_OPTIONS = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "huge_tree": False,
    "remove_comments": True,
    "remove_pis": True,
}

ENTITY_DECLARATIONS_REASON = "XML entity declarations are not allowed"
_PROLOG_CHUNK = 64 * 1024
# PubMed's prolog is under 300 bytes; a prolog this long is not PubMed XML.
_PROLOG_LIMIT = 1024 * 1024
_XML_SPACE = " \t\r\n"
_NAME_RE = re.compile(r"<([^\s/>]*)")

_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}
_FOUR_DIGITS_RE = re.compile(r"\d{4}")
# "1998 Dec-1999 Jan", "2010 Sep-Oct", "2000 Dec 23-30": the month right after the year.
_MEDLINE_DATE_MONTH_RE = re.compile(r"^\s*\d{4}\s+([A-Za-z]{3})")
# A publication year inside free citation text (digits on either side: a page or an id).
_CITATION_YEAR_RE = re.compile(r"(?:19|20)\d\d")


def parse(
    stream: BinaryIO, *, source_name: str = "", ask_known: bool = False
) -> Iterator[ParsedItem]:
    """Yield one item per PubMed record, in document order.

    ``StudyRecord`` for an article or book, ``DeletedCitations`` for an update file's
    ``DeleteCitation``, ``InvalidRecord`` for a well-formed record that cannot be used
    (parsing continues after it). Raises ``ParseError`` when the document is not
    well-formed, declares entities, or is not PubMed XML.

    Each record carries the digest of its element's bytes (``source_digest``). With
    ``ask_known``, articles are taken in groups: a ``KnownQuery`` asks the consumer
    which (PMID, digest) pairs the database holds already, and those articles come
    back as ``KnownRecord`` without being read, which is most of the parsing cost of a
    re-import. After a query that finds nothing, the next groups are read without
    waiting (a new file would otherwise wait on the writer for every group): each then
    only probes, and asking starts again once a probe finds a known article.
    """
    source, root_name = _screen_prolog(stream, source_name)
    tags = _MEDLINE_RECORD_TAGS if root_name == _MEDLINE_ROOT else _RECORD_TAGS
    events = etree.iterparse(source, events=("end",), tag=tags, **_PARSER_OPTIONS)
    count = 0
    group: list[tuple[etree._Element, SourceLocation, int | None, str]] = []
    group_size = _KNOWN_GROUP if ask_known else 1
    asker = _Asker() if ask_known else None
    try:
        for _event, elem in events:
            if count == 0:
                _check_document(elem.getroottree(), source_name)
            count += 1
            location = SourceLocation(source_name, record=count, line=elem.sourceline)
            digest = pmid = None
            if elem.tag not in _DELETE_TAGS:
                digest = hashlib.blake2b(
                    etree.tostring(elem, with_tail=False), digest_size=16, key=_DIGEST_KEY
                ).hexdigest()
                pmid = _article_pmid(elem) if ask_known else None
            group.append((elem, location, pmid, digest))
            if len(group) < group_size:
                continue
            known, ahead = (yield from asker.ask(group)) if asker else (set(), [])
            yield from _read_group(group, known, ahead)
        if group:
            known, ahead = (yield from asker.ask(group)) if asker else (set(), [])
            yield from _read_group(group, known, ahead)
        if count == 0 and events.root is not None:
            _check_document(events.root.getroottree(), source_name)
    except etree.XMLSyntaxError as exc:
        # The records complete before the error come first, as they would one by one.
        yield from _read_group(group, set())
        # This parse's own log (exc.error_log also keeps older entries of the thread).
        fatal = [e for e in events.error_log if e.level == etree.ErrorLevels.FATAL]
        if not fatal and exc.code in _NAMESPACE_ERRORS:
            # PubMed's DTD declares xmlns:mml #FIXED, so a valid file may use mml:math
            # without declaring the prefix; the DTD is never loaded, so libxml2 objects,
            # but only at the end: every record has been read, with the tags as written.
            return
        message, line = exc.msg, exc.lineno
        if fatal and (not line or exc.code in _NAMESPACE_ERRORS):
            # lxml reports a namespace error before the fatal one that stopped the
            # parse, and for some fatal errors (an undefined entity) only "no element
            # found" at line 0; libxml2's own entry says what and where.
            message, line = fatal[0].message, fatal[0].line
        # record: the one being read when the error was met (count records were complete).
        raise ParseError(
            f"malformed XML: {message}",
            SourceLocation(source_name, record=count + 1, line=line),
        ) from None
    except Exception:
        yield from _read_group(group, set())  # the stream failed: as for the syntax error
        raise


# Articles per KnownQuery, and how long (seconds) the parser waits for an answer
# before it reads the articles anyway.
_KNOWN_GROUP = 250
_ANSWER_GRACE = 0.1
# Part of every source digest: change it when what is read from an article changes, so
# that articles imported by the older reading are read again instead of skipped.
_DIGEST_KEY = b"evidb pubmed-xml reader 3"  # 3: grants and CoiStatement


def _article_pmid(elem: etree._Element) -> int | None:
    tag = elem.tag
    if tag == "PubmedArticle":
        text = elem.findtext("MedlineCitation/PMID")
    elif tag == "MedlineCitation":
        text = elem.findtext("PMID")
    else:
        text = None
    # The record's own reading reports a bad PMID; the question about known articles
    # just leaves it out (20 digits would overflow the lookup).
    try:
        pmid = normalize_pmid(text)
    except InvalidIdentifier:
        return None
    return int(pmid) if pmid else None


class _Asker:
    """Whether to ask about a group of articles, and how.

    The consumer answers a query when it reaches it, which may be after it has written
    a batch: seconds. Asking pays when articles are known (a re-import, where the
    consumer answers at once); for a new file, waiting for each answer would stall the
    parser. So a query that finds nothing turns the next ones into probes: the group
    is read at once without waiting, and the answer, whenever it comes, only says
    whether to ask again. One query is out at a time, so answers come back in order.
    """

    def __init__(self) -> None:
        self.asking = True  # the first group asks: the consumer has nothing to write yet
        self.probe: KnownQuery | None = None

    def ask(
        self, group: list
    ) -> Generator[KnownQuery, None, tuple[set[str], list[list[ParsedItem]]]]:
        """Yield a query for the group if one is due; return the digests of its known
        articles, and its first articles as read while waiting for the answer."""
        if self.probe is not None:
            if not self.probe.ready():
                return set(), []  # read the group; ask when the probe has come back
            self.asking = bool(self.probe.wait())
            self.probe = None
        query = _query(group, probe=not self.asking)
        if query is None:
            return set(), []
        yield query
        if query.probe:
            self.probe = query
            return set(), []
        # While a late answer is on its way (the consumer is writing a batch), the
        # articles are read in order, in case they are wanted. A re-import's answer
        # comes within the grace, so nothing is read in vain there.
        ahead: list[list[ParsedItem]] = []
        if not query.ready(_ANSWER_GRACE):
            for elem, location, _pmid, digest in group:
                if query.ready():
                    break
                ahead.append(_read_article(elem, location, digest))
        known = query.wait()
        self.asking = bool(known)
        return known, ahead


def _query(group: list, *, probe: bool) -> KnownQuery | None:
    """The query for a group's articles, if it has any to ask about.

    A PMID twice in one group is never asked about: the first copy may change the
    study the second one would be compared with.
    """
    repeats = Counter(pmid for _, _, pmid, _ in group if pmid is not None)
    pairs = [
        (pmid, digest) for _, _, pmid, digest in group if pmid is not None and repeats[pmid] == 1
    ]
    return KnownQuery(pairs, probe=probe) if pairs else None


def _read_group(
    group: list, known: set[str], ahead: Sequence[list[ParsedItem]] = ()
) -> Iterator[ParsedItem]:
    """The group's items in order: ``ahead`` holds those of its first articles, read
    already; a known article becomes a ``KnownRecord`` whether read or not."""
    for index, (elem, location, pmid, digest) in enumerate(group):
        if pmid is not None and digest in known:
            items: list[ParsedItem] = [KnownRecord(location, pmid, digest)]
        elif index < len(ahead):
            items = ahead[index]
        else:
            items = _read_article(elem, location, digest)
        # Free the record and everything before it: the root would otherwise keep
        # every record of the file alive until the end.
        elem.clear()
        parent = elem.getparent()
        if parent is not None:
            while elem.getprevious() is not None:
                del parent[0]
        yield from items
    group.clear()


def _read_article(
    elem: etree._Element, location: SourceLocation, digest: str | None
) -> list[ParsedItem]:
    items = _read_item(elem, location)
    for item in items:
        if isinstance(item, StudyRecord):
            item.source_digest = digest or ""
    return items


# ---------------------------------------------------------------------------------------
# Hostile and foreign documents


class _Prefixed:
    """A read()-able that replays the bytes already read for the prolog check."""

    def __init__(self, prefix: bytes, stream: BinaryIO) -> None:
        self._prefix = prefix
        self._stream = stream

    def read(self, size: int = -1) -> bytes:
        if not self._prefix:
            return self._stream.read(size)
        if size is None or size < 0:
            data, self._prefix = self._prefix + self._stream.read(), b""
        else:
            data, self._prefix = self._prefix[:size], self._prefix[size:]
        return data


def _screen_prolog(stream: BinaryIO, source_name: str) -> tuple[_Prefixed, str | None]:
    """Read up to the root start tag; refuse entity declarations and foreign roots.

    Returns the stream to parse and the root element's name (None when the document
    ends before it: lxml then reports the error).

    libxml2 is already told not to resolve entities, but refusing the document outright
    gives a clear error and fails fast on a billion-laughs file instead of relying on the
    parser's amplification limits.
    """
    buffer = b""
    name = None
    while True:
        chunk = stream.read(_PROLOG_CHUNK)
        if chunk:
            buffer += chunk
        at_end = not chunk or len(buffer) >= _PROLOG_LIMIT
        text, utf8 = _prolog_text(buffer)
        verdict = _scan_prolog(text)
        if verdict is None and not at_end:
            continue
        if verdict is None:
            if "<!ENTITY" in text.upper():
                raise ParseError(ENTITY_DECLARATIONS_REASON, SourceLocation(source_name, line=1))
            if len(buffer) >= _PROLOG_LIMIT:
                raise ParseError(
                    "no root element in the first 1 MiB: not PubMed XML",
                    SourceLocation(source_name, line=text.count("\n") + 1),
                )
            break  # a truncated or empty document: lxml reports it with its line
        kind, position = verdict
        line = text.count("\n", 0, position) + 1
        # Belt and braces: whatever the scanner made of the prolog, an entity declaration
        # anywhere before the root element (even in a comment) refuses the document.
        if kind == "entity" or "<!ENTITY" in text[:position].upper():
            raise ParseError(ENTITY_DECLARATIONS_REASON, SourceLocation(source_name, line=line))
        if kind == "junk":
            reason = "not XML: the document does not start with markup"
            if buffer.startswith(b"\x1f\x8b"):
                reason = "gzip-compressed data: decompress it before parsing"
            raise ParseError(reason, SourceLocation(source_name, line=line))
        match = _NAME_RE.match(text, position)
        if match.end() == len(text) and not at_end:
            continue  # the root tag's name is cut by the chunk boundary
        name = match.group(1)
        if utf8:
            name = name.encode("latin-1").decode("utf-8", "replace")
        if name not in _ROOT_TAGS:
            raise ParseError(
                f"not PubMed XML (root element <{name}>)", SourceLocation(source_name, line=line)
            )
        break
    return _Prefixed(buffer, stream), name


def _prolog_text(data: bytes) -> tuple[str, bool]:
    """Bytes to text for scanning markup; True when the text is UTF-8 read as Latin-1."""
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return data.decode("utf-32", "ignore"), False
    if data.startswith(b"<\x00\x00\x00"):
        return data.decode("utf-32-le", "ignore"), False
    if data.startswith(b"\x00\x00\x00<"):
        return data.decode("utf-32-be", "ignore"), False
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", "ignore"), False
    if data.startswith(b"<\x00"):
        return data.decode("utf-16-le", "ignore"), False
    if data.startswith(b"\x00<"):
        return data.decode("utf-16-be", "ignore"), False
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    # Latin-1 maps byte for byte, so any ASCII-compatible encoding scans correctly.
    return data.decode("latin-1"), True


def _scan_prolog(text: str) -> tuple[str, int] | None:
    """Classify the document start: ("root" | "entity" | "junk", position), None = need more.

    Walks XMLDecl, comments, processing instructions and the DOCTYPE (quoted literals and
    the internal subset included) up to the first element.
    """
    i = 1 if text.startswith("\ufeff") else 0
    n = len(text)
    while True:
        while i < n and text[i] in _XML_SPACE:
            i += 1
        if i >= n:
            return None
        if text.startswith("<?", i):
            end = text.find("?>", i + 2)
            if end < 0:
                return None
            i = end + 2
        elif text.startswith("<!--", i):
            end = text.find("-->", i + 4)
            if end < 0:
                return None
            i = end + 3
        elif text.startswith("<!DOCTYPE", i):
            result = _scan_doctype(text, i + len("<!DOCTYPE"))
            if result is None or result[0] == "entity":
                return result
            i = result[1]
        elif text.startswith("<", i):
            return ("root", i)
        else:
            return ("junk", i)


def _scan_doctype(text: str, i: int) -> tuple[str, int] | None:
    """From inside ``<!DOCTYPE``: ("end", after its '>'), ("entity", where), None = need more."""
    n = len(text)
    in_subset = False
    while i < n:
        ch = text[i]
        if ch == '"' or ch == "'":
            end = text.find(ch, i + 1)
            if end < 0:
                return None
            i = end + 1
            continue
        if in_subset:
            if text.startswith("<!--", i):
                end = text.find("-->", i + 4)
                if end < 0:
                    return None
                i = end + 3
                continue
            if text.startswith("<?", i):
                end = text.find("?>", i + 2)
                if end < 0:
                    return None
                i = end + 2
                continue
            if text.startswith("<!ENTITY", i):
                return ("entity", i)
            if ch == "]":
                in_subset = False
        elif ch == "[":
            in_subset = True
        elif ch == ">":
            return ("end", i + 1)
        i += 1
    return None


def _check_document(tree: etree._ElementTree, source_name: str) -> None:
    """What lxml itself says about the document: its root and any declared entities."""
    root = tree.getroot()
    if root.tag not in _ROOT_TAGS:
        tag = root.tag if isinstance(root.tag, str) else "?"
        raise ParseError(
            f"not PubMed XML (root element <{tag}>)",
            SourceLocation(source_name, line=root.sourceline),
        )
    dtd = tree.docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise ParseError(ENTITY_DECLARATIONS_REASON, SourceLocation(source_name, line=1))


# ---------------------------------------------------------------------------------------
# Records


def _read_item(elem: etree._Element, location: SourceLocation) -> list[ParsedItem]:
    try:
        tag = elem.tag
        if tag in _DELETE_TAGS:
            return _deleted_citations(elem, location)
        builder = _RecordBuilder(location, book=tag == "PubmedBookArticle")
        if builder.is_book:
            builder.book_article(elem)
        elif tag == "MedlineCitation":
            builder.medline_citation(elem)
        else:
            builder.pubmed_article(elem)
        return [builder.finish()]
    except Exception as exc:
        # One record the code cannot read must not end a 30,000-record import: report it.
        return [InvalidRecord(location, f"unreadable {elem.tag}: {type(exc).__name__}: {exc}")]


def _deleted_citations(elem: etree._Element, location: SourceLocation) -> list[ParsedItem]:
    pmids: list[str] = []
    invalid: list[str] = []
    for child in elem:
        if child.tag == "PMID":
            try:
                pmid = normalize_pmid(child.text)
            except InvalidIdentifier as exc:
                invalid.append(str(exc))
                continue
            if pmid:
                pmids.append(pmid)
    items: list[ParsedItem] = []
    if pmids:
        items.append(DeletedCitations(location, pmids))
    if invalid:
        items.append(InvalidRecord(location, f"{elem.tag}: {'; '.join(invalid)}"))
    elif not pmids:
        items.append(InvalidRecord(location, f"{elem.tag} without PMIDs"))
    return items


_MATHML = "{http://www.w3.org/1998/Math/MathML}"
# "mml:math": the prefix left undeclared (see parse()); PubMed's DTD allows MathML only
# directly in the text elements (AbstractText, ArticleTitle...) or in a DispFormula.
_MATH_TAGS = frozenset({f"{_MATHML}math", "mml:math", "DispFormula"})
# An annotation is another rendering (TeX, content MathML) of the formula beside it.
_MATH_ANNOTATION_TAGS = frozenset(
    f"{prefix}{name}" for prefix in (_MATHML, "mml:") for name in ("annotation", "annotation-xml")
)


def _text(elem: etree._Element) -> str:
    """Element text with inline markup (<sup>, <i>, MathML...) kept as text, cleaned."""
    if len(elem):
        for child in elem:
            if child.tag in _MATH_TAGS:
                return clean("".join(_text_without_annotations(elem)))
        return clean("".join(elem.itertext()))
    return clean(elem.text)


def _text_without_annotations(elem: etree._Element) -> Iterator[str]:
    if elem.text:
        yield elem.text
    for child in elem:
        if child.tag not in _MATH_ANNOTATION_TAGS:
            yield from _text_without_annotations(child)
        if child.tail:
            yield child.tail


# "PMC2762775.2" (version 2 of PMC2762775), "PMC2442205 [Available on 12/30/08]" (an
# embargo note): PubMed's forms of a PMC ID with more after it.
_LEADING_PMCID_RE = re.compile(r"\s*(PMC\d+)(?=[.\s\[]|$)", re.IGNORECASE)


def _normalize_pmcid(value: str | None) -> str:
    try:
        return normalize_pmcid(value)
    except InvalidIdentifier:
        match = _LEADING_PMCID_RE.match(value or "")
        if match is None:
            raise
        return normalize_pmcid(match.group(1))


# NLM's stand-ins for a title it does not have: "[Not Available]." for a non-English
# article whose title is not translated, "[In Process Citation]" (whole or appended)
# for an In-Process one; OLDMEDLINE has a bare "Not Available".
_PLACEHOLDER_TITLES = frozenset({"not available", "in process citation"})
_PLACEHOLDER_SUFFIX_RE = re.compile(r"\[(?:not available|in process citation)\]\.?$", re.I)


def _without_placeholder(title: str) -> str:
    tail = title[-24:].lower()
    if "not available" not in tail and "in process citation" not in tail:
        return title
    if title.strip(" .[]").lower() in _PLACEHOLDER_TITLES:
        return ""
    match = _PLACEHOLDER_SUFFIX_RE.search(title)
    return title[: match.start()].rstrip() if match else title


class _RecordBuilder:
    """Fills one StudyRecord from a PubmedArticle or PubmedBookArticle element."""

    def __init__(self, location: SourceLocation, *, book: bool) -> None:
        self.is_book = book
        self.record = StudyRecord(location=location, journal=None if book else JournalRecord())
        self.title = ""
        self.vernacular_title = ""
        self.book_title = ""
        self.pub_date: PublicationDate | None = None
        self.article_date: PublicationDate | None = None
        self.pubmed_date: PublicationDate | None = None
        self.article_id_pmid = ""
        self.article_id_doi = ""
        self.elocation_doi = ""
        self.other_id_pmcid = ""
        self.medline_ta = ""
        self.chapter_authors: list[AuthorRecord] = []
        self.book_authors: list[AuthorRecord] = []
        self.keywords_seen: set[str] = set()
        self.reference_index: dict[tuple[str, str], WorkRecord] = {}

    # -- helpers -------------------------------------------------------------------------

    def warn(self, field: str, message: str) -> None:
        self.record.warnings.append(f"{self.record.location}: {field}: {message}")

    def identifier(
        self, field: str, normalizer: Callable[[str | None], str], value: str | None
    ) -> str:
        try:
            return normalizer(value)
        except InvalidIdentifier as exc:
            self.warn(field, f"{exc}; left empty")
            return ""

    # -- journal articles ----------------------------------------------------------------

    def pubmed_article(self, elem: etree._Element) -> None:
        for child in elem:
            tag = child.tag
            if tag == "MedlineCitation":
                self.medline_citation(child)
            elif tag == "PubmedData":
                self.pubmed_data(child)

    def medline_citation(self, elem: etree._Element) -> None:
        record = self.record
        for child in elem:
            tag = child.tag
            if tag == "PMID":
                record.pmid = self.identifier("PMID", normalize_pmid, child.text)
            elif tag == "Article":
                self.article(child)
            elif tag == "MeshHeadingList":
                self.mesh_headings(child)
            elif tag == "KeywordList":
                self.keywords(child)
            elif tag == "CommentsCorrectionsList":
                self.comments_corrections(child)
            elif tag == "CoiStatement":
                record.conflict_of_interest = _text(child)
            elif tag == "MedlineJournalInfo":
                for info in child:
                    if info.tag == "NlmUniqueID":
                        record.journal.nlm_id = clean(info.text)
                    elif info.tag == "MedlineTA":
                        self.medline_ta = info.text or ""
            elif tag == "OtherID":
                # Source NLM: a PMC ID (older records, pre-2017 MEDLINE files without
                # PubmedData) or an NIH manuscript id ("NIHMS95512"), which is not one.
                text = child.text or ""
                if (
                    child.get("Source") == "NLM"
                    and not self.other_id_pmcid
                    and text.lstrip()[:3].upper() == "PMC"
                ):
                    self.other_id_pmcid = text

    def article(self, elem: etree._Element) -> None:
        record = self.record
        for child in elem:
            tag = child.tag
            if tag == "Journal":
                self.journal(child)
            elif tag == "ArticleTitle":
                self.title = _text(child)
            elif tag == "Pagination":
                record.pages = _pages(child)
            elif tag == "ELocationID":
                self.elocation(child)
            elif tag == "Abstract":
                self.abstract(child)
            elif tag == "AuthorList":
                if child.get("Type") != "editors":
                    self.chapter_authors.extend(self.authors(child))
            elif tag == "Language":
                if not record.language:
                    record.language = clean(child.text)
            elif tag == "PublicationTypeList":
                for item in child:
                    if item.tag == "PublicationType":
                        self.publication_type(item)
            elif tag == "ArticleDate":
                if self.article_date is None:
                    self.article_date = _date(child)
            elif tag == "VernacularTitle":
                self.vernacular_title = _text(child)
            elif tag == "GrantList":
                self.grants(child)

    def journal(self, elem: etree._Element) -> None:
        journal = self.record.journal
        for child in elem:
            tag = child.tag
            if tag == "ISSN":
                issn_type = child.get("IssnType", "")
                issn = self.identifier(
                    f"ISSN ({issn_type or 'no type'})", normalize_issn, child.text
                )
                if not issn:
                    continue
                if issn_type == "Electronic":
                    journal.eissn = journal.eissn or issn
                elif not journal.issn:
                    journal.issn = issn
            elif tag == "JournalIssue":
                for item in child:
                    item_tag = item.tag
                    if item_tag == "Volume":
                        self.record.volume = clean(item.text)
                    elif item_tag == "Issue":
                        self.record.issue = clean(item.text)
                    elif item_tag == "PubDate":
                        self.pub_date = _date(item)
            elif tag == "Title":
                journal.title = _text(child)
            elif tag == "ISOAbbreviation":
                journal.iso_abbreviation = clean(child.text)

    def elocation(self, elem: etree._Element) -> None:
        if elem.get("EIdType") == "doi" and elem.get("ValidYN") != "N" and not self.elocation_doi:
            self.elocation_doi = elem.text or ""

    def abstract(self, elem: etree._Element) -> None:
        sections: list[AbstractSectionRecord] = []
        structured = False
        for child in elem:
            if child.tag != "AbstractText":
                continue
            label = clean(child.get("Label"))
            if label == "UNLABELLED":
                # NLM's marker for a structured abstract's first, unlabelled segment.
                label = ""
            category = clean(child.get("NlmCategory"))
            text = _text(child)
            if not (label or category or text):
                continue
            structured = structured or bool(label or category)
            sections.append(AbstractSectionRecord(label=label, category=category, text=text))
        self.record.abstract = "\n\n".join(
            f"{section.label}: {section.text}" if section.label else section.text
            for section in sections
            if section.text
        )
        self.record.abstract_sections = sections if structured else []

    def authors(self, elem: etree._Element) -> list[AuthorRecord]:
        authors: list[AuthorRecord] = []
        for author_elem in elem:
            if author_elem.tag != "Author" or author_elem.get("ValidYN") == "N":
                continue
            author = AuthorRecord()
            orcid = ""
            for child in author_elem:
                tag = child.tag
                if tag == "LastName":
                    author.last_name = _text(child)
                elif tag == "ForeName":
                    author.fore_name = _text(child)
                elif tag == "Initials":
                    author.initials = clean(child.text)
                elif tag == "CollectiveName":
                    author.collective_name = _text(child)
                elif tag == "Identifier":
                    if child.get("Source") == "ORCID" and not orcid:
                        orcid = child.text or ""
                elif tag == "AffiliationInfo":
                    for info in child:
                        if info.tag == "Affiliation":
                            affiliation = _text(info)
                            if affiliation:
                                author.affiliations.append(affiliation)
            if not (author.last_name or author.fore_name or author.collective_name):
                continue
            if orcid:
                name = author.collective_name or f"{author.last_name} {author.initials}".strip()
                author.orcid = self.identifier(f"ORCID of author {name}", normalize_orcid, orcid)
            authors.append(author)
        return authors

    def publication_type(self, elem: etree._Element) -> None:
        name = _text(elem)
        if name:
            self.record.publication_types.append(
                PublicationTypeRecord(name=name, ui=elem.get("UI", ""))
            )

    def mesh_headings(self, elem: etree._Element) -> None:
        headings = self.record.mesh_headings
        for heading in elem:
            if heading.tag != "MeshHeading":
                continue
            descriptor = ""
            ui = ""
            major = False
            qualifiers: list[MeshQualifierRecord] = []
            for child in heading:
                tag = child.tag
                if tag == "DescriptorName":
                    descriptor = _text(child)
                    ui = child.get("UI", "")
                    major = child.get("MajorTopicYN") == "Y"
                elif tag == "QualifierName":
                    name = _text(child)
                    if name:
                        qualifiers.append(
                            MeshQualifierRecord(
                                name=name,
                                ui=child.get("UI", ""),
                                is_major=child.get("MajorTopicYN") == "Y",
                            )
                        )
            if not descriptor:
                continue
            # PubMed marks a heading as a major topic (the asterisk in MEDLINE "MH  -
            # *Asthma/drug therapy") when the descriptor or any of its qualifiers is major,
            # so is_major follows that; each qualifier keeps its own flag.
            if not major:
                major = any(qualifier.is_major for qualifier in qualifiers)
            headings.append(
                MeshHeadingRecord(
                    descriptor=descriptor, ui=ui, is_major=major, qualifiers=qualifiers
                )
            )

    def keywords(self, elem: etree._Element) -> None:
        for child in elem:
            if child.tag != "Keyword":
                continue
            keyword = _text(child)
            key = keyword.casefold()
            if keyword and key not in self.keywords_seen:
                self.keywords_seen.add(key)
                self.record.keywords.append(keyword)

    def grants(self, elem: etree._Element) -> None:
        for grant in elem:
            if grant.tag != "Grant":
                continue
            parts = {child.tag: clean(child.text) for child in grant}
            acronym = parts.get("Acronym", "")
            record = GrantRecord(
                agency=parts.get("Agency", ""),
                grant_id=parts.get("GrantID", ""),
                # PubMed writes the placeholder "NULL" where an agency has no code.
                acronym="" if acronym == "NULL" else acronym,
                country=parts.get("Country", ""),
            )
            if record.agency or record.grant_id:
                self.record.grants.append(record)

    def comments_corrections(self, elem: etree._Element) -> None:
        for item in elem:
            if item.tag != "CommentsCorrections":
                continue
            relation = item.get("RefType", "")
            ref_source = ""
            pmid_text = None
            for child in item:
                if child.tag == "RefSource":
                    ref_source = _text(child)
                elif child.tag == "PMID":
                    pmid_text = child.text
            pmid = self.identifier(
                f"CommentsCorrections {relation} PMID", normalize_pmid, pmid_text
            )
            if relation == "Cites":
                if ref_source or pmid:
                    self.add_reference(
                        WorkRecord(raw_text=ref_source, pmid=pmid, year=_citation_year(ref_source))
                    )
            elif ref_source or pmid:
                self.record.related_articles.append(
                    RelatedArticleRecord(relation=relation, ref_source=ref_source, pmid=pmid)
                )

    def pubmed_data(self, elem: etree._Element) -> None:
        for child in elem:
            tag = child.tag
            if tag == "ArticleIdList":
                self.article_ids(child)
            elif tag == "ReferenceList":
                self.reference_list(child)
            elif tag == "History":
                self.history(child)

    def history(self, elem: etree._Element) -> None:
        for child in elem:
            if child.tag == "PubMedPubDate" and child.get("PubStatus") == "pubmed":
                self.pubmed_date = _date(child)

    def article_ids(self, elem: etree._Element) -> None:
        for child in elem:
            if child.tag != "ArticleId":
                continue
            id_type = child.get("IdType")
            if id_type == "doi":
                self.article_id_doi = self.article_id_doi or child.text or ""
            elif id_type == "pmc" or id_type == "pmcid":
                if not self.record.pmcid:
                    self.record.pmcid = self.identifier("PMC ID", _normalize_pmcid, child.text)
            elif id_type == "pubmed":
                self.article_id_pmid = self.article_id_pmid or child.text or ""

    # -- references ----------------------------------------------------------------------

    def reference_list(self, elem: etree._Element) -> None:
        # ReferenceList may nest (a list per section of the article).
        for child in elem:
            if child.tag == "Reference":
                self.reference(child)
            elif child.tag == "ReferenceList":
                self.reference_list(child)

    def reference(self, elem: etree._Element) -> None:
        work = WorkRecord()
        for child in elem:
            if child.tag == "Citation":
                work.raw_text = _text(child)
            elif child.tag == "ArticleIdList":
                for article_id in child:
                    if article_id.tag != "ArticleId":
                        continue
                    id_type = article_id.get("IdType")
                    if id_type == "pubmed" and not work.pmid:
                        work.pmid = self.reference_id("PMID", normalize_pmid, article_id.text)
                    elif id_type == "doi" and not work.doi:
                        work.doi = self.reference_id("DOI", normalize_doi, article_id.text)
                    elif id_type in ("pmc", "pmcid") and not work.pmcid:
                        work.pmcid = self.reference_id("PMC ID", _normalize_pmcid, article_id.text)
        if work.raw_text or work.pmid or work.doi or work.pmcid:
            work.year = _citation_year(work.raw_text)
            self.add_reference(work)

    def reference_id(
        self, label: str, normalizer: Callable[[str | None], str], value: str | None
    ) -> str:
        # Not self.identifier(): the field name is only worth formatting for a bad value.
        try:
            return normalizer(value)
        except InvalidIdentifier as exc:
            number = len(self.record.references) + 1
            self.warn(f"reference {number} {label}", f"{exc}; left empty")
            return ""

    def add_reference(self, work: WorkRecord) -> None:
        """Append, or merge into an earlier reference to the same work.

        The same cited work often appears twice: as CommentsCorrections "Cites" (PMID and
        a short RefSource) and in the ReferenceList (PMID, DOI and the full citation).
        """
        keys = _work_keys(work)
        index = self.reference_index
        for key in keys:
            existing = index.get(key)
            if existing is None:
                continue
            if (existing.pmid and work.pmid and existing.pmid != work.pmid) or (
                existing.doi and work.doi and existing.doi != work.doi
            ):
                continue  # same DOI or PMID but contradicting identifiers: two works
            existing.pmid = existing.pmid or work.pmid
            existing.doi = existing.doi or work.doi
            existing.pmcid = existing.pmcid or work.pmcid
            existing.raw_text = existing.raw_text or work.raw_text
            if existing.year is None:
                existing.year = work.year
            for merged_key in _work_keys(existing):
                index.setdefault(merged_key, existing)
            return
        self.record.references.append(work)
        for key in keys:
            index.setdefault(key, work)

    # -- books ---------------------------------------------------------------------------

    def book_article(self, elem: etree._Element) -> None:
        for child in elem:
            tag = child.tag
            if tag == "BookDocument":
                self.book_document(child)
            elif tag == "PubmedBookData":
                self.pubmed_data(child)

    def book_document(self, elem: etree._Element) -> None:
        record = self.record
        for child in elem:
            tag = child.tag
            if tag == "PMID":
                record.pmid = self.identifier("PMID", normalize_pmid, child.text)
            elif tag == "ArticleIdList":
                self.article_ids(child)
            elif tag == "Book":
                self.book(child)
            elif tag == "ArticleTitle":
                self.title = _text(child)
            elif tag == "VernacularTitle":
                self.vernacular_title = _text(child)
            elif tag == "Pagination":
                record.pages = _pages(child)
            elif tag == "Language":
                if not record.language:
                    record.language = clean(child.text)
            elif tag == "AuthorList":
                if child.get("Type") != "editors":
                    self.chapter_authors.extend(self.authors(child))
            elif tag == "PublicationType":
                self.publication_type(child)
            elif tag == "Abstract":
                self.abstract(child)
            elif tag == "KeywordList":
                self.keywords(child)
            elif tag == "ReferenceList":
                self.reference_list(child)
            elif tag == "GrantList":
                self.grants(child)

    def book(self, elem: etree._Element) -> None:
        for child in elem:
            tag = child.tag
            if tag == "BookTitle":
                self.book_title = _text(child)
            elif tag == "PubDate":
                self.pub_date = _date(child)
            elif tag == "AuthorList":
                if child.get("Type") != "editors":
                    self.book_authors.extend(self.authors(child))
            elif tag == "Volume":
                self.record.volume = clean(child.text)
            elif tag == "ELocationID":
                self.elocation(child)

    # -- result --------------------------------------------------------------------------

    def finish(self) -> StudyRecord | InvalidRecord:
        record = self.record
        if not record.pmid and self.article_id_pmid:
            record.pmid = self.identifier("ArticleId pubmed", normalize_pmid, self.article_id_pmid)
        record.title = _without_placeholder(self.title) or self.book_title or self.vernacular_title
        if self.other_id_pmcid and not record.pmcid:
            record.pmcid = self.identifier("OtherID (NLM)", _normalize_pmcid, self.other_id_pmcid)
        if not record.pmid and not record.title:
            return InvalidRecord(record.location, "no PMID and no title")
        if not record.pmid:
            self.warn("PMID", "missing")
        for raw, field in (
            (self.article_id_doi, "ArticleId doi"),
            (self.elocation_doi, "ELocationID doi"),
        ):
            if raw and not record.doi:
                record.doi = self.identifier(field, normalize_doi, raw)
        # PubDate is the issue's date; ahead-of-print records may lack its year.
        for date in (self.pub_date, self.article_date, self.pubmed_date):
            if date is not None and date.year is not None:
                record.pub_date = date
                break
        else:
            if self.pub_date is not None:
                record.pub_date = self.pub_date
        record.authors = self.chapter_authors or self.book_authors
        journal = record.journal
        if journal is not None and not journal.iso_abbreviation and self.medline_ta:
            # ISO abbreviations were assigned in 2009 to the journals indexed then; older
            # citations to ceased journals have only the NLM abbreviation, which NLM has
            # made identical to the ISO one since 2007.
            journal.iso_abbreviation = clean(self.medline_ta)
        if journal is not None and not (
            journal.title
            or journal.iso_abbreviation
            or journal.issn
            or journal.eissn
            or journal.nlm_id
        ):
            record.journal = None
        return record


def _work_keys(work: WorkRecord) -> list[tuple[str, str]]:
    keys = []
    if work.pmid:
        keys.append(("pmid", work.pmid))
    if work.doi:
        keys.append(("doi", work.doi))
    if work.pmcid:
        keys.append(("pmcid", work.pmcid))
    return keys


def _pages(elem: etree._Element) -> str:
    medline = start = end = ""
    for child in elem:
        tag = child.tag
        if tag == "MedlinePgn":
            medline = clean(child.text)
        elif tag == "StartPage":
            start = clean(child.text)
        elif tag == "EndPage":
            end = clean(child.text)
    if medline:
        return medline
    if start and end and end != start:
        return f"{start}-{end}"
    return start


def _date(elem: etree._Element) -> PublicationDate:
    """PubDate, ArticleDate, PubMedPubDate or Book/PubDate to a PublicationDate."""
    year_text = month_text = day_text = season = medline_date = ""
    for child in elem:
        tag = child.tag
        if tag == "Year":
            year_text = clean(child.text)
        elif tag == "Month":
            month_text = clean(child.text)
        elif tag == "Day":
            day_text = clean(child.text)
        elif tag == "Season":
            season = clean(child.text)
        elif tag == "MedlineDate":
            medline_date = clean(child.text)
    if medline_date and not year_text:
        match = _FOUR_DIGITS_RE.search(medline_date)
        year = int(match.group()) if match else None
        month_match = _MEDLINE_DATE_MONTH_RE.match(medline_date)
        month = _month(month_match.group(1)) if month_match and year else None
        return PublicationDate(year=year, month=month, text=medline_date)
    year = int(year_text) if len(year_text) == 4 and year_text.isdigit() else None
    month = _month(month_text) if year is not None and month_text else None
    day = None
    if month is not None and day_text.isdigit():
        day = int(day_text)
        if not 1 <= day <= calendar.monthrange(year, month)[1]:
            day = None
    text = f"{year_text} {season}".strip() if season else ""
    return PublicationDate(year=year, month=month, day=day, text=text)


def _month(text: str) -> int | None:
    """'Jan' / 'January' / '01' / '1' -> 1."""
    if text.isdigit():
        number = int(text)
        return number if 1 <= number <= 12 else None
    return _MONTHS.get(text[:3].lower())


def _citation_year(text: str) -> int | None:
    """The publication year in a free-text citation, 19xx or 20xx.

    A year in parentheses is often part of a journal's name ("J Appl Physiol (1985).
    2009 Oct;107(4)"), so a bare year wins over it; author-year styles ("Smith J (2009)")
    still get theirs when it is the only one.
    """
    in_parentheses = None
    for match in _CITATION_YEAR_RE.finditer(text):
        start, end = match.span()
        before = text[start - 1] if start else ""
        after = text[end] if end < len(text) else ""
        if before.isdigit() or after.isdigit():
            continue  # part of a longer number; finditer cannot skip a real year this way
        if before == "(" and after == ")":
            if in_parentheses is None:
                in_parentheses = int(match.group())
            continue
        return int(match.group())
    return in_parentheses
