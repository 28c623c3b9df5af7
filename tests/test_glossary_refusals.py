"""Glossaries that would silently mislead: refused with one line, or taken leniently with warnings."""

from __future__ import annotations

from pathlib import Path

import pytest

HEADER = "id\tsource\ttarget\tforbidden\tnote\n"


def errors_of(stderr: str) -> list[str]:
    assert "Traceback" not in stderr, stderr
    return [line for line in stderr.splitlines() if line.startswith("aligner: error:")]


@pytest.fixture
def article(tmp_path: Path) -> Path:
    path = tmp_path / "a.txt"
    path.write_text("Kapal itu besar.\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "rows, count",
    [
        ("ship\tkapal\tship\t\t\nship\tperahu\tboat\t\t\n", 1),  # duplicate id
        ("ship\tkapal\tship\t\t\nvessel\tkapal\tvessel\t\t\n", 1),  # one source form, two targets
    ],
)
def test_translate_refuses_a_glossary_with_check_errors(rows, count, tmp_path, article, tiny_model_dir, cli):
    glossary = tmp_path / "g.tsv"
    glossary.write_text(HEADER + rows, encoding="utf-8")
    out = tmp_path / "out"
    result = cli("translate", str(article), "--out", str(out), "--glossary", str(glossary),
                 "--model", str(tiny_model_dir), "--backend", "torch", "--beam", "1")
    assert result.returncode == 2
    (line,) = errors_of(result.stderr)
    assert line.startswith(f"aligner: error: {glossary}: {count} error(s); run `aligner glossary check {glossary}`")
    assert not list(out.glob("*.tmx"))
    check = cli("glossary", "check", str(glossary))
    assert check.returncode == 1 and f"{count} error(s)" in check.stdout

    lenient = cli("translate", str(article), "--out", str(out), "--glossary", str(glossary), "--glossary-lenient",
                  "--model", str(tiny_model_dir), "--backend", "torch", "--beam", "1")
    assert lenient.returncode == 0, lenient.stderr
    warnings = [line for line in lenient.stderr.splitlines() if line.startswith(f"aligner: warning: {glossary}:")]
    assert len(warnings) == count
    assert (out / "a.tmx").is_file()


# --- import: XML entities, a wrong root, control characters ------------------------------

TBX_BODY = ('<martif type="TBX-Basic"><text><body><termEntry id="a">'
            '<langSet xml:lang="id"><tig><term>{source}</term></tig></langSet>'
            '<langSet xml:lang="en"><tig><term>ship</term></tig></langSet></termEntry></body></text></martif>\n')


@pytest.mark.parametrize(
    "name, content, needle",
    [
        ("entity.tbx", '<?xml version="1.0"?>\n<!DOCTYPE martif [<!ENTITY xxe "x">]>\n'
         + TBX_BODY.format(source="kapal &xxe;"), "declares XML entities"),
        ("undeclared.tbx", '<?xml version="1.0"?>\n<!DOCTYPE martif SYSTEM "tbx.dtd">\n'
         + TBX_BODY.format(source="kapal &xxe;"), ":3: entity reference &xxe; refused"),
        ("page.tbx", "<html><body><p>kapal</p></body></html>\n", "root element <html>, not a TBX file"),
        ("memory.xml", '<tmx version="1.4"><header/><body/></tmx>\n', "root element <tmx>, not a TBX file"),
        ("control.tbx", TBX_BODY.format(source="kapal\x7f"), ":1: control character U+007F"),
        ("nul.csv", "source,target\nkapal,ship\nperahu\x00,boat\n", ":3: source 'perahu\\x00' contains the control character U+0000"),
        ("bell.csv", "source,target,note\nkapal,ship,a\x07b\n", ":2: note 'a\\x07b' contains the control character U+0007"),
    ],
)
def test_import_refuses_what_it_cannot_take_faithfully(name, content, needle, tmp_path, cli):
    source = tmp_path / name
    source.write_text(content, encoding="utf-8")
    into = tmp_path / "g.tsv"
    result = cli("glossary", "import", str(source), "--into", str(into))
    assert result.returncode == 1, (result.stdout, result.stderr)
    (line,) = errors_of(result.stderr)
    assert line.startswith(f"aligner: error: {source}") and needle in line, line
    assert not into.exists()


def test_a_tbx_with_only_an_external_doctype_is_still_read(tmp_path, cli):
    source = tmp_path / "plain.tbx"
    source.write_text('<?xml version="1.0"?>\n<!DOCTYPE martif SYSTEM "TBXcoreStructV02.dtd">\n'
                      + TBX_BODY.format(source="kapal"), encoding="utf-8")
    into = tmp_path / "g.tsv"
    result = cli("glossary", "import", str(source), "--into", str(into))
    assert result.returncode == 0, result.stderr
    assert "\tkapal\tship" in into.read_text(encoding="utf-8")


def test_check_flags_a_control_character_in_the_tsv(tmp_path, cli):
    glossary = tmp_path / "g.tsv"
    glossary.write_text(HEADER + "ship\tkapal\tship\t\t\nboat\tpera\x00hu\tboat\t\t\n", encoding="utf-8")
    result = cli("glossary", "check", str(glossary))
    assert result.returncode == 1
    assert f"{glossary}:3: error: concept 'boat': control character U+0000" in result.stdout
    assert "1 error(s)" in result.stdout
