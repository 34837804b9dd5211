"""Damaged copies of the real samples go through the whole import service without a crash.

The bugs this guards against were found by mutation fuzzing (bytes flipped, cut, repeated;
XML elements and JSON values swapped for extremes): each raised out of ``study_import``
or failed in the database instead of becoming a report. Each has a test of its own; this
one keeps a fixed, seeded set of such inputs in the suite, on both databases, so that a
new crash of the same kinds fails here first. The mutations are deterministic: a failure
names the sample and the mutation's seed, which rebuild the input.
"""

from __future__ import annotations

import copy
import io
import json
import random

import pytest
from lxml import etree

from evidence.models import ImportStatus
from evidence.services import study_import
from tests.conftest import SAMPLES_DIR, SEEDS_DIR

pytestmark = pytest.mark.django_db

MUTATIONS_PER_SAMPLE = 10

_TOKENS = [
    b"\n",
    b"\r\n",
    b"<",
    b"</",
    b"&",
    b"&#0;",
    b"\x00",
    b"\xef\xbb\xbf",
    b"{",
    b"}",
    b"@",
    b"TY  - ",
    b"ER  - ",
    b"PMID- ",
    b"AB  - ",
    b"9" * 30,
    b"<![CDATA[",
    b"\xc3",
]
_EXTREME_TEXT = ["", "0", "-1", "9" * 25, "x" * 3000, "10.", "PMC0", "2020 Spring", "13"]
_EXTREME_JSON = [None, "", -1, 2**40, 10**30, 1.5e308, True, [], {}, "x" * 3000, "\x00", "\ud800"]


def _mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        position = rng.randrange(len(out) + 1)
        operation = rng.randrange(5)
        if operation == 0 and out:
            out[position % len(out)] = rng.randrange(256)
        elif operation == 1:
            out[position:position] = rng.choice(_TOKENS)
        elif operation == 2:
            del out[position : position + rng.randint(1, 200)]
        elif operation == 3 and out:
            start = rng.randrange(len(out))
            out[position:position] = out[start : start + rng.randint(1, 400)]
        else:
            del out[position:]
    return bytes(out)


def _mutate_xml(data: bytes, rng: random.Random) -> bytes:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.fromstring(data, parser)
    # Elements with text of their own (PMID, Year, ArticleId...): where values are read.
    leaves = [element for element in root.iter() if len(element) == 0]
    for _ in range(rng.randint(1, 5)):
        element = rng.choice(leaves)
        parent = element.getparent()
        choice = rng.randrange(3)
        if choice == 0 or parent is None:
            element.text = rng.choice(_EXTREME_TEXT)
        elif choice == 1:
            parent.remove(element)
        else:
            element.addnext(copy.deepcopy(element))
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def _mutate_json(data: bytes, rng: random.Random) -> bytes:
    document = json.loads(data)
    places = []

    def walk(value: object) -> None:
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, child in list(items):
            if isinstance(child, dict | list) and child:
                walk(child)
            else:  # a value: where a wrong type or an extreme does its damage
                places.append((value, key))

    walk(document)
    for _ in range(rng.randint(1, 4)):
        container, key = rng.choice(places)
        container[key] = rng.choice(_EXTREME_JSON)
    return json.dumps(document).encode()


def _samples() -> list:
    paths = sorted(SAMPLES_DIR.glob("*.*")) + sorted(SEEDS_DIR.glob("*.txt"))
    return [path for path in paths if path.suffix != ".md"] or [
        pytest.param(None, marks=pytest.mark.skip(reason=f"{SAMPLES_DIR} is absent"))
    ]


def _evidb_json_sample() -> bytes:
    study = {
        "pmid": "33081809",
        "title": "Mesenchymal Stromal Cells for Osteonecrosis",
        "abstract": "Osteonecrosis is a skeletal disorder.",
        "appraisal": {
            "design": "narrative_review",
            "sample_size": {"state": "not_applicable", "value": ""},
        },
        "effect_sizes": [{"outcome": "pain", "measure": "MD", "value": -1.1, "n_intervention": 60}],
        "limitations": [{"category": "sample_size", "description": "Small samples."}],
        "references": [{"pmid": "1", "raw_text": "A cited work.", "year": 2001}],
        "citation_count": 3,
    }
    return json.dumps({"format": "evidb", "version": 1, "studies": [study, study]}).encode()


def _import_never_raises(name: str, data: bytes, seed: int) -> None:
    try:
        run = study_import(stream=io.BytesIO(data), source_name=name, skip_invalid=True)
    except Exception as exc:
        pytest.fail(f"{name}, mutation {seed}: {exc!r}")
    assert run.status in (ImportStatus.SUCCEEDED, ImportStatus.FAILED), (name, seed)
    run.refresh_from_db()  # the report itself was stored
    assert run.records_seen or run.messages, (name, seed)


@pytest.mark.parametrize("path", _samples(), ids=lambda path: getattr(path, "name", "absent"))
def test_damaged_samples_are_reported_not_crashed(path):
    original = path.read_bytes()
    for seed in range(MUTATIONS_PER_SAMPLE):
        rng = random.Random(f"{path.name}:{seed}")
        data = original
        if path.suffix == ".xml" and seed % 2:
            data = _mutate_xml(original, rng)
        else:
            data = _mutate_bytes(original, rng)
        _import_never_raises(path.name, data, seed)


def test_damaged_evidb_json_is_reported_not_crashed():
    original = _evidb_json_sample()
    for seed in range(MUTATIONS_PER_SAMPLE * 6):
        rng = random.Random(f"evidb.json:{seed}")
        _import_never_raises("evidb.json", _mutate_json(original, rng), seed)
