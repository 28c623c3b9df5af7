"""Termbase files: lossless TSV documents, check, TBX-Basic and CSV exchange."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aligner.glossary.document import (
    Document,
    GlossaryError,
    Row,
    merge,
    render_row,
    slug,
    validate_term,
)
from aligner.glossary.exchange import csv_bytes, read_csv, read_tbx, tbx_bytes
from aligner.glossary.lint import check
from aligner.glossary.termbase import Termbase
from aligner.types import Term

ROOT = Path(__file__).resolve().parent.parent
DEFENCE = ROOT / "glossary" / "defence.tsv"

# ---------------------------------------------------------------- strategies

# Anything XML 1.0, CSV and a TSV cell can hold: no control characters, surrogates,
# unassigned or private-use code points; no tabs or line breaks.
_chars = st.characters(blacklist_categories=("Cs", "Cc", "Cn", "Co"), blacklist_characters="\t\n\r")
_text = st.text(_chars, min_size=1, max_size=24).map(str.strip).filter(bool)
_form = _text.map(lambda s: s.replace("|", "/").strip()).filter(bool)
_id = _text.filter(lambda s: not s.startswith("#") and s != "id")
_term = st.builds(
    Term,
    id=_id,
    sources=st.lists(_form, min_size=1, max_size=4).map(tuple),
    target=_text,
    forbidden=st.lists(_form, max_size=3).map(tuple),
    note=st.one_of(st.just(""), _text),
)
_terms = st.lists(_term, max_size=6, unique_by=lambda t: t.id)

_comment = _text.map(lambda s: "# " + s)
_malformed = st.sampled_from(["just one cell", "a\tb", "x\t\ty", "a\tb\tc\td\te\tf", "\tITPP\tITPP"])
_line = st.one_of(_comment, st.just(""), st.just("   "), _term.map(render_row), _malformed)


def T(id: str, sources: str, target: str, forbidden: str = "", note: str = "") -> Term:
    split = lambda s: tuple(x for x in s.split("|") if x)  # noqa: E731
    return Term(id, split(sources), target, split(forbidden), note)


def doc_of(*rows: str, path: str = "g.tsv") -> Document:
    return Document.parse("id\tsource\ttarget\tforbidden\tnote\n" + "".join(r + "\n" for r in rows), path)


def errors(doc: Document) -> list[str]:
    return [str(p) for p in check(doc) if p.severity == "error"]


def warnings(doc: Document) -> list[str]:
    return [str(p) for p in check(doc) if p.severity == "warning"]


# ---------------------------------------------------------------- the TSV document


def test_defence_tsv_reads_back_byte_for_byte() -> None:
    text = DEFENCE.read_text(encoding="utf-8")
    doc = Document.parse(text, DEFENCE)
    assert doc.problems == []
    assert doc.render() == text
    assert len(doc.terms) >= 19


@settings(max_examples=150, deadline=None)
@given(st.lists(_line, max_size=12), st.booleans(), st.booleans(), st.booleans())
def test_any_document_renders_exactly_as_read(lines: list[str], final: bool, crlf: bool, bom: bool) -> None:
    newline = "\r\n" if crlf else "\n"
    text = ("\ufeff" if bom else "") + newline.join(lines) + (newline if final and lines else "")
    assert Document.parse(text).render() == text


@settings(max_examples=100, deadline=None)
@given(st.lists(_line, max_size=10), _term)
def test_add_and_remove_change_only_their_own_line(lines: list[str], term: Term) -> None:
    lines = ["id\tsource\ttarget\tforbidden\tnote", *lines]
    text = "".join(line + "\n" for line in lines)
    doc = Document.parse(text)
    if doc.get(term.id) is not None:
        return
    doc.add(term)
    after = doc.render().split("\n")[:-1]
    [n] = [i for i, item in enumerate(doc.items) if isinstance(item, Row) and item.term == term and item.raw is None]
    assert after[n] == render_row(term)
    assert after[:n] + after[n + 1:] == lines
    # the new row directly follows the last existing row
    assert not any(isinstance(item, Row) for item in doc.items[n + 1:])
    if len(doc.rows) > 1:
        assert isinstance(doc.items[n - 1], Row)
    doc.remove(term.id)
    assert doc.render() == text


def test_comments_and_order_survive_add_remove_and_edit(tmp_path: Path) -> None:
    path = tmp_path / "g.tsv"
    text = (
        "# top comment\n"
        "id\tsource\ttarget\tforbidden\tnote\n"
        "b\tBeta\tbeta\t\t\n"
        "\n"
        "# about a\n"
        "a\tAlfa|Alpha\talpha\t\tkept  spacing   \n"
        "c\tGamma\tgamma\n"
        "# tail comment\n"
    )
    path.write_text(text, encoding="utf-8")
    tb = Termbase.load(path)
    assert [t.id for t in tb.terms] == ["b", "a", "c"]
    tb.save()
    assert path.read_text(encoding="utf-8") == text  # unchanged rows are not even re-rendered
    tb.add(T("d", "Delta", "delta"))
    removed = tb.remove("b")
    assert removed.id == "b"
    tb.terms[1] = T("c", "Gamma|Gama", "gamma")
    tb.save()
    assert path.read_text(encoding="utf-8") == (
        "# top comment\n"
        "id\tsource\ttarget\tforbidden\tnote\n"
        "\n"
        "# about a\n"
        "a\tAlfa|Alpha\talpha\t\tkept  spacing   \n"
        "c\tGamma|Gama\tgamma\t\t\n"
        "d\tDelta\tdelta\t\t\n"
        "# tail comment\n"
    )
    again = Termbase.load(path)
    assert [t.id for t in again.terms] == ["a", "c", "d"]
    with pytest.raises(GlossaryError):
        again.remove("nope")


def test_new_termbase_gets_a_header(tmp_path: Path) -> None:
    tb = Termbase([T("x", "Ex", "ex")])
    tb.save(tmp_path / "new.tsv")
    assert (tmp_path / "new.tsv").read_text() == "id\tsource\ttarget\tforbidden\tnote\nx\tEx\tex\t\t\n"
    assert Termbase.load(tmp_path / "new.tsv").terms == tb.terms


def test_load_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.tsv"
    path.write_text("# c\nid\tsource\ttarget\nok\tA\ta\nbroken row without tabs\n", encoding="utf-8")
    with pytest.raises(GlossaryError, match=rf"^{path}:4: malformed row"):
        Termbase.load(path)
    path.write_bytes(b"id\tsource\ttarget\nok\tA\ta\nx\t\xff\ty\n")
    with pytest.raises(GlossaryError, match=rf"^{path}:3: not valid UTF-8"):
        Termbase.load(path)


def test_unwritable_terms_are_refused() -> None:
    assert validate_term(T("a", "A", "a")) == []
    assert validate_term(Term("a", ("A\tB",), "a"))
    assert validate_term(Term("#a", ("A",), "a"))
    assert validate_term(Term("a", (), "a"))
    assert validate_term(Term("a", ("A",), " a"))
    doc = Document.new()
    with pytest.raises(GlossaryError):
        doc.add(Term("a", ("A",), "line\nbreak"))
    with pytest.raises(GlossaryError, match="already exists"):
        doc.add(T("a", "A", "a"))
        doc.add(T("a", "B", "b"))


# ---------------------------------------------------------------- check


def test_defence_glossary_is_clean() -> None:
    problems = check(Document.read(DEFENCE))
    assert problems == [], "\n".join(map(str, problems))


def test_check_reports_malformed_rows_with_file_and_line() -> None:
    doc = doc_of("ok\tA\ta", "no tabs here", "\tB\tb", "c\t|\tc", "d\tD\t", "e\tE\te\tf\tnote\textra")
    found = errors(doc)
    assert found == [
        "g.tsv:3: error: malformed row: expected at least 3 tab-separated columns (id, source, target), found 1",
        "g.tsv:4: error: malformed row: empty id",
        "g.tsv:5: error: malformed row: empty source",
        "g.tsv:6: error: malformed row: empty target",
        "g.tsv:7: error: malformed row: expected at most 5 tab-separated columns, found 6",
    ]


def test_duplicate_source_forms_across_concepts() -> None:
    # multi-word and ordinary words: case-insensitive, hyphen spacing ignored (as the matcher does)
    doc = doc_of("a\tKTT NATO\tNATO summit", "b\tktt  nato\tNATO summit", "c\tIndo-Pasifik\tIndo-Pacific",
                 "d\tIndo - Pasifik\tIndo-Pacific", "e\tTiongkok\tChina", "f\ttiongkok\tChina")
    found = errors(doc)
    assert len(found) == 3
    assert found[0].startswith("g.tsv:3: error: duplicate source form 'ktt  nato' in concepts 'a' (line 2) and 'b'")
    assert found[1].startswith("g.tsv:5: error: duplicate source form 'Indo - Pasifik'")
    assert found[2].startswith("g.tsv:7: error: duplicate source form 'tiongkok'")


def test_acronyms_compare_exactly_and_words_do_not() -> None:
    assert errors(doc_of("a\tUE\tEU", "b\tUni Eropa\tEuropean Union")) == []
    assert errors(doc_of("a\tIPCP\tIPCP", "b\tIPCP\tIPCP"))  # the same acronym twice
    # "ue" is an ordinary word, matched case-insensitively, so it would also fire on "UE"
    assert errors(doc_of("a\tUE\tEU", "b\tue\tEU"))
    # the matcher treats 'Korsel' and 'KORSEL' differently only if both were acronyms
    assert errors(doc_of("a\tKORSEL\tSouth Korea", "b\tKorsel\tSouth Korea"))


def test_conflicting_targets() -> None:
    doc = doc_of("a\tUE|Uni Eropa\tEU", "b\tuni eropa\tEuropean Union")
    found = errors(doc)
    assert found == ["g.tsv:3: error: source form 'uni eropa' maps to different targets: 'a' -> 'EU' (line 2) "
                     "and 'b' -> 'European Union'"]
    # the same English target under two ids is legal but worth a look
    doc = doc_of("a\tITPP\tITPP", "b\tITTP\tITPP")
    assert errors(doc) == []
    assert warnings(doc) == ["g.tsv:3: warning: target 'ITPP' also belongs to concept 'a' (line 2)"]


def test_forbidden_forms_the_target_would_trip() -> None:
    found = errors(doc_of("a\tX\tNATO summit\tNATO summit", "b\tY\tNATO summit meeting\tsummit", "c\tZ\tProgramme\tProgram"))
    assert found == [
        "g.tsv:2: error: concept 'a': forbidden form 'NATO summit' equals the target",
        "g.tsv:3: error: concept 'b': forbidden form 'summit' occurs inside the target 'NATO summit meeting'",
    ]


def test_check_warnings_for_sloppy_rows() -> None:
    doc = doc_of("a\tA||B|\ta\tx||\t", "b\tKorsel|korsel\tSouth Korea", "a\tC\tc")
    assert errors(doc) == ["g.tsv:4: error: duplicate concept id 'a' (first at line 2)"]
    assert [w.split(": ", 2)[2][:30] for w in warnings(doc)] == [
        "concept 'a': empty form in sou",
        "concept 'a': empty form in for",
        "concept 'b': source form 'kors",
    ]


# ---------------------------------------------------------------- TBX and CSV


@settings(max_examples=100, deadline=None)
@given(_terms)
def test_tbx_round_trip_is_lossless(tmp_path_factory: pytest.TempPathFactory, terms: list[Term]) -> None:
    path = tmp_path_factory.mktemp("tbx") / "g.tbx"
    path.write_bytes(tbx_bytes(terms))
    assert read_tbx(path) == (terms, [])


@settings(max_examples=100, deadline=None)
@given(_terms)
def test_csv_round_trip_is_lossless(tmp_path_factory: pytest.TempPathFactory, terms: list[Term]) -> None:
    path = tmp_path_factory.mktemp("csv") / "g.csv"
    path.write_bytes(csv_bytes(terms))
    assert read_csv(path) == (terms, [])


@settings(max_examples=50, deadline=None)
@given(_terms)
def test_tsv_round_trip_is_lossless(tmp_path_factory: pytest.TempPathFactory, terms: list[Term]) -> None:
    path = tmp_path_factory.mktemp("tsv") / "g.tsv"
    Termbase(list(terms)).save(path)
    assert Termbase.load(path).terms == terms


def test_tbx_export_is_tbx_basic(tmp_path: Path) -> None:
    from lxml import etree

    term = T("itpp-full", "Program Kemitraan", "Individually Tailored Partnership Programme",
             "Individually Tailored Partnership Program", "NATO spells Programme")
    root = etree.fromstring(tbx_bytes([term], forbidden_as_terms=True))
    assert root.tag == "martif" and root.get("type") == "TBX-Basic"
    entry = root.find("text/body/termEntry")
    assert entry.get("id") == "itpp-full"
    assert entry.findtext("note") == "NATO spells Programme"
    lang = "{http://www.w3.org/XML/1998/namespace}lang"
    en = [ls for ls in entry.findall("langSet") if ls.get(lang) == "en"][0]
    statuses = [(t.findtext("term"), t.findtext("termNote[@type='administrativeStatus']")) for t in en.findall("tig")]
    assert statuses == [("Individually Tailored Partnership Programme", "preferredTerm-admn-sts"),
                        ("Individually Tailored Partnership Program", "deprecatedTerm-admn-sts")]


OTHER_TOOL_TBX = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE martif SYSTEM "TBXcoreStructV02.dtd">
<martif type="TBX" xml:lang="en-US">
 <martifHeader><fileDesc><sourceDesc><p>exported by some CAT tool</p></sourceDesc></fileDesc></martifHeader>
 <text><body>
  <termEntry id="c1">
   <descrip type="definition">Alliance forum of heads of state</descrip>
   <langSet xml:lang="id-ID">
    <ntig><termGrp><term>KTT NATO</term>
      <termNote type="administrativeStatus">preferredTerm-admn-sts</termNote></termGrp></ntig>
    <ntig><termGrp><term>Konferensi Tingkat Tinggi NATO</term></termGrp></ntig>
   </langSet>
   <langSet xml:lang="en-GB">
    <ntig><termGrp><term>NATO meeting</term>
      <termNote type="normativeAuthorization">deprecatedTerm</termNote></termGrp></ntig>
    <ntig><termGrp><term>NATO summit</term>
      <termNote type="normativeAuthorization">preferredTerm</termNote></termGrp></ntig>
   </langSet>
  </termEntry>
  <termEntry>
   <langSet xml:lang="in"><tig><term>Tiongkok</term></tig></langSet>
   <langSet xml:lang="en"><tig><term>China</term></tig>
     <tig><term>PRC</term><termNote type="administrativeStatus">admittedTerm-admn-sts</termNote></tig></langSet>
   <langSet xml:lang="fr"><tig><term>Chine</term></tig></langSet>
  </termEntry>
  <termEntry id="only-fr"><langSet xml:lang="fr"><tig><term>OTAN</term></tig></langSet></termEntry>
 </body></text>
</martif>
"""

TBX_V3 = """<?xml version="1.0" encoding="UTF-8"?>
<tbx xmlns="urn:iso:std:iso:30042:ed-2" type="TBX-Basic" style="dct" xml:lang="en">
 <tbxHeader><fileDesc><sourceDesc><p>v3</p></sourceDesc></fileDesc></tbxHeader>
 <text><body>
  <conceptEntry id="jcs">
   <langSec xml:lang="id"><termSec><term>Kepala Staf Gabungan</term></termSec></langSec>
   <langSec xml:lang="en"><termSec><term>Joint Chiefs of Staff</term>
     <termNote type="administrativeStatus">preferredTerm-admn-sts</termNote></termSec></langSec>
  </conceptEntry>
 </body></text>
</tbx>
"""


def test_tbx_from_other_tools(tmp_path: Path) -> None:
    path = tmp_path / "cat.tbx"
    path.write_text(OTHER_TOOL_TBX, encoding="utf-8")
    terms, notes = read_tbx(path)
    assert terms == [
        Term("c1", ("KTT NATO", "Konferensi Tingkat Tinggi NATO"), "NATO summit", ("NATO meeting",),
             "Alliance forum of heads of state"),
        Term("china", ("Tiongkok",), "China", (), ""),
    ]
    assert any("extra 'en' term 'PRC' dropped" in n for n in notes)
    assert any("skipped termEntry" in n and f"{path}:" in n for n in notes)
    path.write_text(TBX_V3, encoding="utf-8")
    assert read_tbx(path) == ([Term("jcs", ("Kepala Staf Gabungan",), "Joint Chiefs of Staff")], [])


def test_tbx_external_entities_are_never_resolved(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET", encoding="utf-8")
    path = tmp_path / "evil.tbx"
    path.write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE martif [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>\n'
        '<martif type="TBX-Basic"><text><body><termEntry id="a"><note>&xxe;</note>'
        '<langSet xml:lang="id"><tig><term>satu &xxe;</term></tig></langSet>'
        '<langSet xml:lang="en"><tig><term>one</term></tig></langSet></termEntry></body></text></martif>\n',
        encoding="utf-8",
    )
    # Refused whole, naming the file: keeping the literal "&xxe;" as a term would be silently wrong.
    with pytest.raises(GlossaryError, match=rf"^{path}: declares XML entities") as caught:
        read_tbx(path)
    assert "TOPSECRET" not in str(caught.value)


def test_bad_tbx_and_csv_name_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.tbx"
    path.write_text("<martif>\n<text>\n<body></text></martif>\n", encoding="utf-8")
    with pytest.raises(GlossaryError, match=rf"^{path}:3: "):
        read_tbx(path)
    path = tmp_path / "g.csv"
    path.write_text("id,source,target\na,A,alpha\nb,,beta\n", encoding="utf-8")
    with pytest.raises(GlossaryError, match=rf"^{path}:3: empty source"):
        read_csv(path)
    path.write_text("foo,bar\n", encoding="utf-8")
    with pytest.raises(GlossaryError, match=rf"^{path}:1: CSV header"):
        read_csv(path)


def test_csv_from_a_spreadsheet(tmp_path: Path) -> None:
    path = tmp_path / "sheet.csv"
    path.write_bytes("\ufeffTarget,Source,Note\r\n\"NATO summit\",\"KTT NATO|ktt nato\",\"a, b\"\r\nChina,Tiongkok,\r\n"
                     .encode("utf-8"))
    assert read_csv(path) == ([Term("nato-summit", ("KTT NATO", "ktt nato"), "NATO summit", (), "a, b"),
                               Term("china", ("Tiongkok",), "China")], [])


def test_merge_and_slug() -> None:
    assert slug("Cooperative Cyber Defence Centre of Excellence") == "cooperative-cyber-defence-centre-of-excellence"
    assert slug("Ünïcode / ") == "unicode"
    assert slug("—") == "concept"
    doc = doc_of("a\tA\talpha")
    assert merge(doc, [T("a", "A", "alpha"), T("b", "B", "beta")]) == (["b"], [], [])
    assert merge(doc, [T("a", "A", "ALPHA")]) == ([], [], ["a"])
    assert merge(doc, [T("a", "A", "ALPHA")], update=True) == ([], ["a"], [])
    assert doc.render().splitlines()[1:] == ["a\tA\tALPHA\t\t", "b\tB\tbeta\t\t"]


def test_target_with_a_bar_is_one_form(tmp_path: Path) -> None:
    """A target is one English form: a "|" in it is text, not a separator (found by hypothesis)."""
    from aligner.glossary.termbase import Termbase

    path = tmp_path / "g.tsv"
    Termbase([Term("0", ("0",), "|")], path).save()
    assert Termbase.load(path).terms == [Term("0", ("0",), "|")]
