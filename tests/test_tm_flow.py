"""TM first end to end: translate with a memory, review saves feed it, the next run uses it; the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from aligner.batch.pipeline import translate_file
from aligner.formats.tmx import read_tmx, write_tmx
from aligner.review.session import ReviewSession
from aligner.tm.store import Entry, TranslationMemory
from aligner.translate.signature import RunSignature
from aligner.types import Draft, Term, Unit

ARTICLE = (
    "Menteri Pertahanan bertemu Presiden di Istana Merdeka pada Senin pagi.\n\n"
    "Pada tahun 2023 anggaran pertahanan Indonesia naik lima persen menjadi Rp 134 triliun.\n\n"
    "Kunjungan itu berlangsung selama dua jam tanpa pernyataan pers.\n"
)
S0, S1, S2 = [p.strip() for p in ARTICLE.split("\n\n")]


class FakeTranslator:
    """Stands in for the model: records what it is asked to translate."""

    model_name = "fake-model"

    def __init__(self, glossary=None) -> None:
        self.glossary = glossary
        self.asked: list[str] = []

    def translate(self, texts, progress=None):
        self.asked += list(texts)
        return [Draft(t, "MT " + t) for t in texts]

    @property
    def signature(self) -> RunSignature:
        return RunSignature(
            aligner="test", model=self.model_name, model_files="", backend="fake", device="cpu", precision="",
            decoder="beam", beam=1, max_new_tokens=None, max_input_tokens=512, early_stopping=True,
            redecode_degenerate=False, redecode_ngram=0, glossary="", glossary_version="", batch_size=1,
        )


def run(tmp_path: Path, tm, translator=None, name: str = "berita") -> tuple[list[Unit], FakeTranslator, object]:
    src = tmp_path / f"{name}.txt"
    src.write_text(ARTICLE, encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    translator = translator or FakeTranslator()
    report = translate_file(src, out, translator, tm=tm)
    return read_tmx(out / f"{name}.tmx"), translator, report


def test_exact_fills_fuzzy_attached_model_runs_only_for_the_rest(tmp_path: Path):
    tm = TranslationMemory(":memory:")
    tm.add([
        Entry(S0, "The Defence Minister met the President.", prev="", next=S1, origin_tuid="old:0"),
        Entry(S1.replace("lima", "enam"), "In 2023 the budget rose six percent.", origin_tuid="old:1"),
        Entry(S2, "A draft of the visit.", status="draft"),
    ])
    units, translator, report = run(tmp_path, tm)
    by_source = {u.source: u for u in units}
    assert translator.asked == [S1]  # exact matches are not sent to the model
    first = by_source[S0]
    assert first.target == "The Defence Minister met the President."
    assert (first.prop("x-origin"), first.prop("x-tm-score"), first.prop("x-tm-tuid")) == ("tm", "101", "old:0")
    assert first.prop("x-status") == "approved" and first.prop("x-model") == ""
    draft_match = by_source[S2]
    assert draft_match.prop("x-tm-score") == "100" and draft_match.prop("x-status") == "draft"
    fuzzy = by_source[S1]
    assert fuzzy.target == "MT " + S1 and fuzzy.prop("x-origin") == "mt" and fuzzy.prop("x-status") == "draft"
    score, tuid = fuzzy.prop("x-fuzzy").split()
    assert 90 < float(score) < 100 and tuid == "old:1"
    assert fuzzy.prop("x-fuzzy-target") == "In 2023 the budget rose six percent."
    assert fuzzy.prop("x-fuzzy-source") == S1.replace("lima", "enam")
    assert (report.tm_exact, report.tm_fuzzy, report.tm_none) == (2, 1, 0)


def test_tm_target_breaking_glossary_or_qa_is_flagged_not_approved(tmp_path: Path):
    from aligner.glossary.termbase import Termbase

    termbase = Termbase([Term("mod", ("Menteri Pertahanan",), "Minister of Defence")])
    tm = TranslationMemory(":memory:")
    tm.add([
        Entry(S0, "The Defence Minister met the President.", prev="", next=S1),
        Entry(S1, "In 2024 the defence budget rose five percent to Rp 134 trillion."),  # wrong year
    ])
    units, translator, _ = run(tmp_path, tm, FakeTranslator(termbase))
    first, second = units[0], units[1]
    assert first.prop("x-origin") == "tm" and first.prop("x-status") == "draft"
    assert any("missing term mod" in n for n in first.notes)
    assert second.prop("x-origin") == "tm" and second.prop("x-status") == "draft"
    assert any(n.startswith("translation memory match:") and "2023" in n for n in second.notes), second.notes


def test_review_save_feeds_memory_and_rerun_uses_it(tmp_path: Path):
    db = tmp_path / "tm.sqlite3"
    tm = TranslationMemory(db)
    units, translator, _ = run(tmp_path, tm)
    assert len(translator.asked) == 3  # an empty memory: everything drafted
    tm.close()

    tmx = tmp_path / "out" / "berita.tmx"
    session = ReviewSession(tmx, user="ana")
    session.tm_db = db
    def base(unit: Unit) -> dict[str, str]:
        return {"source": unit.source, "target": unit.target, "status": unit.prop("x-status") or "draft"}

    key = {row["tuid"]: row["key"] for row in session.state()["units"]}
    edits = [
        {"key": key[units[0].tuid], "base": base(units[0]),
         "target": "The Defence Minister met the President on Monday.", "status": "approved"},
        {"key": key[units[1].tuid], "base": base(units[1]), "target": units[1].target, "status": "rejected"},
    ]
    assert session.save(edits)["saved"] == 2

    tm = TranslationMemory(db)
    found = tm.exact(S0, "", S1)
    assert found.score == 101 and found.target == "The Defence Minister met the President on Monday."
    assert found.author == "ana" and found.origin_file == "berita.tmx"
    assert tm.exact(S1) is None  # rejected: stored, never offered
    assert tm.stats()["rejected"] == 1
    assert tm.approved_pairs() == [(S0, "The Defence Minister met the President on Monday.", "berita")]

    # The next article (same opening sentence) uses the reviewed translation at once.
    units2, translator2, report = run(tmp_path, tm, name="berita-2")
    assert units2[0].target == "The Defence Minister met the President on Monday."
    assert units2[0].prop("x-status") == "approved"
    assert translator2.asked == [S1, S2]
    assert report.tm_exact == 1
    tm.close()


def seed_tmx(path: Path) -> Path:
    props = (("x-doc", "lama"), ("x-kind", "sentence"), ("x-status", "approved"))
    write_tmx([
        Unit(S0, "The Defence Minister met the President.", props, tuid="lama:0", changedate="20240101T000000Z"),
        Unit(S1.replace("lima", "enam"), "The budget rose six percent.", props, tuid="lama:1",
             changedate="20240101T000000Z"),
    ], path)
    return path


def test_tm_commands(cli, tmp_path: Path):
    db = tmp_path / "tm.sqlite3"
    tmx = seed_tmx(tmp_path / "lama.tmx")
    result = cli("tm", "import", str(tmx), "--tm-db", str(db))
    assert result.returncode == 0, result.stderr
    assert "2 added" in result.stdout and result.stderr == ""
    result = cli("tm", "import", str(tmp_path), "--tm-db", str(db))
    assert "0 added, 0 updated, 2 unchanged" in result.stdout
    stats = json.loads(cli("tm", "stats", "--tm-db", str(db), "--format", "json").stdout)
    assert (stats["units"], stats["approved"]) == (2, 2)
    hits = json.loads(cli("tm", "search", "menteri PERTAHANAN", "--tm-db", str(db), "--format", "json").stdout)
    assert [h["source"] for h in hits] == [S0] and hits[0]["source_spans"] == [[0, 18]]
    table = cli("tm", "search", "six percent", "--tm-db", str(db), env={"COLUMNS": "300"})
    assert "six percent" in table.stdout and "1 hit(s)" in table.stdout
    out = tmp_path / "export.tmx"
    assert cli("tm", "export", "--out", str(out), "--tm-db", str(db), "--approved-only").returncode == 0
    assert len(read_tmx(out)) == 2
    bad = tmp_path / "bad.tmx"
    bad.write_text("<tmx><body><tu>", encoding="utf-8")
    result = cli("tm", "import", str(bad), "--tm-db", str(db))
    assert result.returncode == 1 and result.stderr.startswith(f"aligner: error: {bad}:")
    result = cli("tm", "stats", "--tm-db", str(tmp_path / "none.sqlite3"))
    assert result.returncode == 2 and "no such translation memory" in result.stderr


def test_translate_with_tm(cli, tiny_model_dir: Path, tmp_path: Path):
    tmx = seed_tmx(tmp_path / "lama.tmx")
    src = tmp_path / "in" / "berita.txt"
    src.parent.mkdir()
    src.write_text(ARTICLE, encoding="utf-8")
    out = tmp_path / "out"
    result = cli("translate", str(src.parent), "--out", str(out), "--model", str(tiny_model_dir), "--backend", "torch",
                 "--beam", "1", "--no-cache", "--tm", str(tmx), "--fuzzy-min", "80")
    assert result.returncode == 0, result.stderr
    assert "translation memory: 1 exact, 1 fuzzy, 1 no match" in result.stderr
    units = read_tmx(out / "berita.tmx")
    assert units[0].target == "The Defence Minister met the President." and units[0].prop("x-origin") == "tm"
    assert units[1].prop("x-fuzzy-target") == "The budget rose six percent."
    report = json.loads((out / "report.json").read_text())["files"][0]
    assert (report["tm_exact"], report["tm_fuzzy"], report["tm_none"]) == (1, 1, 1)
    # The same memory files make the same memory: a re-run keeps the article; a changed memory redoes it.
    args = ["translate", str(src.parent), "--out", str(out), "--model", str(tiny_model_dir), "--backend", "torch",
            "--beam", "1", "--no-cache", "--fuzzy-min", "80", "--tm"]
    assert "1 kept from an earlier run" in cli(*args, str(tmx)).stderr
    db = tmp_path / "tm.sqlite3"
    assert cli("tm", "import", str(tmx), "--tm-db", str(db)).returncode == 0
    assert "1 translated, 0 kept" in cli(*args, str(db)).stderr
    result = cli("translate", str(src.parent), "--out", str(out), "--model", str(tiny_model_dir), "--backend", "torch",
                 "--tm", str(tmp_path / "missing.sqlite3"))
    assert result.returncode == 2 and "missing.sqlite3: no such file" in result.stderr


def test_review_page_shows_origin_and_fuzzy_diff(tmp_path: Path):
    tm = TranslationMemory(":memory:")
    tm.add([Entry(S0, "The Defence Minister met the President."),
            Entry(S1.replace("lima", "enam"), "The budget rose six percent.", origin_tuid="old:1")])
    run(tmp_path, tm)
    rows = ReviewSession(tmp_path / "out" / "berita.tmx").state()["units"]
    assert rows[0]["tm"]["label"] == "TM exact 100%"
    fuzzy = rows[1]["tm"]
    assert fuzzy["label"].startswith("TM fuzzy 9") and fuzzy["label"].endswith("% + MT")
    [match] = fuzzy["fuzzy"]
    assert (match["tuid"], match["target"]) == ("old:1", "The budget rose six percent.")
    assert ("-", "lima") in match["diff"] and ("+", "enam") in match["diff"]
    assert rows[2]["tm"]["label"] == "MT"
