"""TBX that CAT tools read right: valid ids, forbidden forms they will not offer, TBX-Basic v2 and v3."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from aligner.formats.xml import is_ncname
from aligner.glossary.exchange import TBX3_NS, read_tbx, tbx_bytes
from aligner.glossary.termbase import Termbase
from aligner.types import Term
from tests.conftest import ROOT, SHARED

AWKWARD = [
    Term("2023-summit", ("KTT 2023",), "2023 summit", ("2023 Summit meeting",), "the Vilnius one"),
    Term("nato summit", ("KTT NATO",), "NATO summit"),
    Term("x:y", ("Menhan",), "Defence Minister", ("Defense Minister", 'the "Menhan"')),
]


def _schema(name: str) -> etree.RelaxNG:
    path = SHARED / "spec" / name
    if not path.exists():
        pytest.skip(f"shared/spec/{name} not present")
    return etree.RelaxNG(etree.parse(str(path)))


def _terms() -> list[Term]:
    return Termbase.load(ROOT / "glossary" / "defence.tsv").terms + AWKWARD


@pytest.mark.parametrize("version,schema", [(2, "tbx-basic-v2.rng"), (3, "tbx-basic-v3.rng")])
@pytest.mark.parametrize("forbidden_as_terms", [False, True])
def test_export_is_valid_tbx_basic_and_reads_back(tmp_path: Path, version, schema, forbidden_as_terms):
    terms = _terms()
    data = tbx_bytes(terms, version=version, forbidden_as_terms=forbidden_as_terms)
    rng = _schema(schema)
    doc = etree.fromstring(data)
    assert rng.validate(doc), rng.error_log.filter_from_errors()
    assert doc.tag == ("martif" if version == 2 else f"{{{TBX3_NS}}}tbx")
    ids = [e.get("id") for e in doc.iter("{*}termEntry", "{*}conceptEntry", "termEntry")]
    assert len(ids) == len(terms) and all(is_ncname(i) for i in ids) and len(set(ids)) == len(ids)
    path = tmp_path / "g.tbx"
    path.write_bytes(data)
    assert read_tbx(path) == (terms, [])


def test_forbidden_forms_are_a_note_on_the_preferred_term_by_default():
    doc = etree.fromstring(tbx_bytes(AWKWARD))
    statuses = [t.text for t in doc.iter("termNote")]
    assert "deprecatedTerm-admn-sts" not in statuses
    entry = doc.findall("text/body/termEntry")[2]
    en = entry.findall("langSet")[1]
    (tig,) = en.findall("tig")
    assert tig.findtext("term") == "Defence Minister"
    assert tig.findtext("note") == 'Do not use: "Defense Minister", "the \\"Menhan\\""'
    kept = etree.fromstring(tbx_bytes(AWKWARD, forbidden_as_terms=True))
    assert [t.text for t in kept.iter("termNote")].count("deprecatedTerm-admn-sts") == 3


def test_check_reports_ids_that_are_not_xml_names(tmp_path: Path, cli):
    path = tmp_path / "g.tsv"
    Termbase(AWKWARD).save(path)
    res = cli("glossary", "check", str(path))
    warnings = [line for line in res.stdout.splitlines() if "not an XML name" in line]
    assert len(warnings) == 3, res.stdout
    assert "rename it to 'c-2023-summit'" in warnings[0] and "rename it to 'nato-summit'" in warnings[1]
    assert "rename it to 'x-y'" in warnings[2]


def test_cli_export_v3_never_writes_an_invalid_id(tmp_path: Path, cli):
    path = tmp_path / "g.tsv"
    Termbase(AWKWARD).save(path)
    out = tmp_path / "g.tbx"
    res = cli("glossary", "export", "--glossary", str(path), "--out", str(out), "--tbx-version", "3")
    assert res.returncode == 0, res.stderr
    assert "'2023-summit' is not an XML name; written as 'c-2023-summit'" in res.stderr
    doc = etree.parse(str(out))
    assert _schema("tbx-basic-v3.rng").validate(doc)
    into = tmp_path / "new.tsv"
    res = cli("glossary", "import", str(out), "--into", str(into))
    assert res.returncode == 0, res.stderr
    assert Termbase.load(into).terms == AWKWARD
