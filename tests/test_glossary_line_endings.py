"""A termbase reads the same whatever its line endings: mixed, BOM, final newline or not."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from aligner.glossary.document import Document
from aligner.glossary.lint import check

ROWS = ["# defence terms", "id\tsource\ttarget\tforbidden\tnote", "nato\tNATO\tNATO", "",
        "rok\tKorea Selatan|Korsel\tSouth Korea", "nato-sg\tSekretaris Jenderal NATO\tNATO Secretary General"]


def test_last_row_with_crlf_among_lf_rows_keeps_every_concept(tmp_path, cli):
    path = tmp_path / "g.tsv"
    path.write_bytes("\n".join(ROWS).encode() + b"\r\n")
    assert [t.id for t in Document.read(path).terms] == ["nato", "rok", "nato-sg"]
    result = cli("glossary", "check", str(path))
    assert result.returncode == 0, result.stderr
    assert "3 concepts, 0 error(s)" in result.stdout


def test_error_in_a_crlf_file_names_the_right_line(tmp_path, cli):
    path = tmp_path / "g.tsv"
    lines = ROWS[:3] + ["broken row"] + ROWS[3:]
    path.write_bytes(("\n".join(lines[:3]) + "\r\n" + "\n".join(lines[3:]) + "\n").encode())
    result = cli("glossary", "check", str(path))
    assert result.returncode == 1
    assert f"{path}:4: error: malformed row" in result.stdout


@settings(max_examples=60, deadline=None)
@given(
    ends=st.lists(st.sampled_from(["\n", "\r\n", "\r"]), min_size=len(ROWS), max_size=len(ROWS)),
    final=st.booleans(), bom=st.booleans(),
)
def test_any_mix_of_line_endings_reads_the_same_and_writes_back_byte_for_byte(ends, final, bom):
    text = ("\ufeff" if bom else "") + "".join(row + end for row, end in zip(ROWS, ends))
    if not final:
        text = text[: -len(ends[-1])]
    doc = Document.parse(text, "g.tsv")
    assert [t.id for t in doc.terms] == ["nato", "rok", "nato-sg"]
    assert not doc.problems and not [p for p in check(doc) if p.severity == "error"]
    assert doc.render() == text
