"""The segmenter: nothing lost, Indonesian (and English) rules, line kinds, boilerplate, CLI, bench scoring."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aligner.segment import Rules, RulesError, segment
from tests.conftest import SEEDS


def texts(src: str, lang: str = "id") -> list[str]:
    return [s.text for s in segment(src, lang=lang)]


def assert_rebuilds(src: str, segs) -> None:
    """Segments plus the (whitespace-only) gaps between them rebuild ``src`` exactly."""
    pos = 0
    rebuilt = []
    for i, s in enumerate(segs):
        assert s.index == i
        assert s.text == src[s.start : s.end] and s.text
        assert s.start >= pos, "segments overlap or are out of order"
        gap = src[pos : s.start]
        assert gap.strip() == "", f"non-whitespace dropped: {gap!r}"
        rebuilt += [gap, s.text]
        pos = s.end
    assert src[pos:].strip() == ""
    rebuilt.append(src[pos:])
    assert "".join(rebuilt) == src


# --- nothing is lost ---------------------------------------------------------

_PIECES = st.sampled_from(
    [" ", "  ", "\n", "\r\n", "\u2028", "\xa0", "\t", ".", "!", "?", "…", "...", "”", "“", '"', "'", "’", "(", ")",
     "[3]", "[", "]", ",", ":", "-", "–", "Jl.", "Dr.", "kol.", "D.C.", "R.", "dll.", "No.", "1.000", "2,5", "a", "Ia",
     "Namun", "Pada", "kata", "Kami", "https://x.id/a.b", "x@y.id", "ADVERTISEMENT", "Foto:", "[1] Ref.", "A", "z",
     "Sementara itu", "mengatakan", "Mr.", "U.S.", "The", "(sef/sef)", "Tag", "\x0b", "\x1c", "\u0301", "𝔘"]
)
_NOISY = st.lists(st.one_of(_PIECES, st.text(max_size=3)), max_size=60).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), _NOISY))
def test_segments_and_gaps_rebuild_any_input(src: str):
    assert_rebuilds(src, segment(src))


@settings(max_examples=150, deadline=None)
@given(_NOISY)
def test_english_rules_rebuild_any_input(src: str):
    assert_rebuilds(src, segment(src, lang="en"))


def test_seeds_rebuild_exactly():
    for seed in SEEDS:
        src = seed.read_text(encoding="utf-8")
        segs = segment(src, doc=seed.stem)
        assert_rebuilds(src, segs)
        assert {s.doc for s in segs} == {seed.stem}
        assert {s.kind for s in segs} <= {"sentence", "heading", "meta", "reference", "boilerplate"}


# --- rules -------------------------------------------------------------------


@pytest.mark.parametrize(
    "abbr",
    ["Jenderal.", "Jend.", "Mayor.", "Kol.", "kol.", "Letjen.", "Mayjen.", "Brigjen.", "Adm.", "adm.", "Prof.",
     "Dr.", "dr.", "Ir.", "H.", "Hj.", "Tn.", "Ny.", "Sdr.", "Bpk.", "Yth.", "PT.", "Jl.", "No."],
)
def test_titles_and_ranks_never_end_a_sentence(abbr: str):
    assert texts(f"Acara itu dihadiri {abbr} Budi Santoso kemarin. Ia datang.") == [
        f"Acara itu dihadiri {abbr} Budi Santoso kemarin.", "Ia datang."
    ]


def test_common_abbreviations():
    assert texts("Ia membeli beras, gula, dll. yang dibutuhkan. Harga naik.") == [
        "Ia membeli beras, gula, dll. yang dibutuhkan.", "Harga naik."]
    assert texts("Ia membeli beras, gula, dll. Harga naik.") == ["Ia membeli beras, gula, dll.", "Harga naik."]
    assert texts("Lihat hlm. 5 dan Pasal 3. Ini penting.") == ["Lihat hlm. 5 dan Pasal 3.", "Ini penting."]
    assert texts("Kantor di Jl. Sudirman No. 3 Jakarta. Saham PT Telkom Tbk. Direktur Utama Budi mengatakan.") == [
        "Kantor di Jl. Sudirman No. 3 Jakarta.", "Saham PT Telkom Tbk. Direktur Utama Budi mengatakan."]
    assert texts("Masa jabatan 2020 s.d. Desember 2024. Ia lalu pensiun.") == [
        "Masa jabatan 2020 s.d. Desember 2024.", "Ia lalu pensiun."]


def test_initials_and_dotted_acronyms():
    assert texts("Tari itu identik dengan R. Tjetje Somantri. Ia guru tari.") == [
        "Tari itu identik dengan R. Tjetje Somantri.", "Ia guru tari."]
    assert texts("Hubungan A.S. Jepang erat. Pertemuan di Washington, D.C. Senin lalu sukses.") == [
        "Hubungan A.S. Jepang erat.", "Pertemuan di Washington, D.C. Senin lalu sukses."]
    # An initial before a word that starts sentences does end one.
    assert texts("Ia tinggal di A.S. Namun ia pulang.") == ["Ia tinggal di A.S.", "Namun ia pulang."]


def test_numbers_ellipses_urls_and_emails():
    assert texts("Harga naik 2,5 persen menjadi 1.000 rupiah. Peluru 155-mm dikirim.") == [
        "Harga naik 2,5 persen menjadi 1.000 rupiah.", "Peluru 155-mm dikirim."]
    assert texts("Ia ragu... lalu pergi. Tunggu… Apa itu?") == ["Ia ragu... lalu pergi.", "Tunggu…", "Apa itu?"]
    assert texts("Lihat https://www.nato.int/cps/en/natohq/news.htm?x=1. Kirim ke humas@kemhan.go.id. Terima kasih.") == [
        "Lihat https://www.nato.int/cps/en/natohq/news.htm?x=1.", "Kirim ke humas@kemhan.go.id.", "Terima kasih."]
    assert texts("Kunjungi detik.com. Pada hari itu ramai.") == ["Kunjungi detik.com.", "Pada hari itu ramai."]


def test_list_numbers_are_not_sentences():
    assert texts("1. Pendahuluan") == ["1. Pendahuluan"]


def test_closing_quotes_brackets_and_footnote_markers_stay():
    src = "Keamanan tidak dapat dipisahkan.”[3] Meskipun demikian, kebijakan[4], tetap sama (lihat tabel.) Lalu selesai."
    assert texts(src) == ["Keamanan tidak dapat dipisahkan.”[3]", "Meskipun demikian, kebijakan[4], tetap sama (lihat tabel.)",
                          "Lalu selesai."]
    assert texts("Ia berkata, “Kami siap.” Mereka setuju.") == ["Ia berkata, “Kami siap.”", "Mereka setuju."]
    assert texts('"Kami siap," kata dia. "Ini bagus!" ujarnya.') == ['"Kami siap," kata dia.', '"Ini bagus!" ujarnya.']


def test_quotation_with_several_sentences_is_split():
    src = "“Apa yang terjadi di Eropa hari ini bisa terjadi di Asia besok. Jadi kita harus bersatu,” ujarnya."
    assert texts(src) == ["“Apa yang terjadi di Eropa hari ini bisa terjadi di Asia besok.",
                          "Jadi kita harus bersatu,” ujarnya."]


def test_new_quoted_statement_without_punctuation_before_it():
    src = '"Pertumbuhan kredit 20 persen," katanya menjelaskan "Faktor risiko itu mencakup banyak hal," kata dia.'
    assert texts(src) == ['"Pertumbuhan kredit 20 persen," katanya menjelaskan',
                          '"Faktor risiko itu mencakup banyak hal," kata dia.']
    # A quoted title or an introduced quotation stays inside its sentence.
    assert len(texts('Ia menyebut program itu "Indonesia Sehat" dan menambahkan bahwa "Semua harus ikut serta, tanpa kecuali."')) == 1


def test_lower_case_after_period_is_not_a_boundary():
    assert texts("Nilai mencapai Rp. 5 juta. jumlah itu besar.") == ["Nilai mencapai Rp. 5 juta. jumlah itu besar."]


def test_sentence_start_without_punctuation():
    assert texts("Perusahaan membeli saham di tahun 1999 Dikatakannya, upaya itu berhasil.") == [
        "Perusahaan membeli saham di tahun 1999", "Dikatakannya, upaya itu berhasil."]
    # Title case is not a sentence start: the next word is capitalised too.
    assert len(texts("Ia membaca novel berjudul Di Bawah Lindungan Ka'bah kemarin.")) == 1
    # Nor is a pronoun that is capitalised anywhere.
    assert len(texts("Aku berkata kepada Anda bahwa hari ini cerah.")) == 1


def test_line_break_always_ends_a_segment():
    assert texts("Ini kalimat tanpa titik\nyang berlanjut di baris baru") == [
        "Ini kalimat tanpa titik", "yang berlanjut di baris baru"]


def test_line_kinds():
    src = "\n".join([
        "Jepang dan NATO Perkuat Kerja Sama",
        "15 Februari 2023",
        "Oleh: Budi Santoso",
        "Kerja sama itu diumumkan di Tokyo. Ia hadir.",
        "Menteri Pertahanan saat berkunjung ke Tokyo pada Januari 2023. Foto: Antara",
        "Mengapa Jepang mencari kerja sama?",
        "[1] Galic, M. (2019). Navigating by Sun and Compass. Policy Brief One.",
        "[2] NATO. (2024, May 14). Talks. https://www.nato.int/cps/en/natohq/news_225366.htm",
    ])
    got = [(s.kind, s.text) for s in segment(src)]
    assert got == [
        ("heading", "Jepang dan NATO Perkuat Kerja Sama"),
        ("meta", "15 Februari 2023"),
        ("meta", "Oleh: Budi Santoso"),
        ("sentence", "Kerja sama itu diumumkan di Tokyo."),
        ("sentence", "Ia hadir."),
        ("meta", "Menteri Pertahanan saat berkunjung ke Tokyo pada Januari 2023."),
        ("meta", "Foto: Antara"),
        ("heading", "Mengapa Jepang mencari kerja sama?"),
        ("reference", "[1] Galic, M. (2019). Navigating by Sun and Compass. Policy Brief One."),
        ("reference", "[2] NATO. (2024, May 14). Talks. https://www.nato.int/cps/en/natohq/news_225366.htm"),
    ]
    assert [s.paragraph for s in segment(src)] == [0, 1, 2, 3, 3, 4, 4, 5, 6, 7]


def test_boilerplate_found_by_general_rules():
    # None of these lines appears in the seeds: the rules are general, not a list of strings.
    src = "\n".join([
        "Berita Utama",
        "Prabowo Bertemu Menhan Jepang di Tokyo untuk Bahas Kerja Sama",
        "Menteri Pertahanan bertemu mitranya di Tokyo. Keduanya membahas latihan bersama.",
        "IKLAN",
        "Gulir ke bawah untuk melanjutkan membaca",
        "Baca Juga: Jepang Kirim Kapal ke Laut China Selatan",
        "Kerja sama itu akan dimulai tahun depan.",
        "[Gambas:Video 20detik]",
        "Berita Terkait",
        "Korsel dan Jepang Gelar Latihan Gabungan",
        "(ant/rzy)",
        "Pertahanan",
        "Jepang",
        "TNI AL",
        "Indo Pasifik",
    ])
    kinds = {s.text: s.kind for s in segment(src)}
    boiler = {t for t, k in kinds.items() if k == "boilerplate"}
    assert boiler == {
        "Berita Utama", "IKLAN", "Gulir ke bawah untuk melanjutkan membaca",
        "Baca Juga: Jepang Kirim Kapal ke Laut China Selatan", "[Gambas:Video 20detik]", "Berita Terkait",
        "Korsel dan Jepang Gelar Latihan Gabungan", "(ant/rzy)", "Pertahanan", "Jepang", "TNI AL", "Indo Pasifik",
    }
    assert kinds["Prabowo Bertemu Menhan Jepang di Tokyo untuk Bahas Kerja Sama"] == "heading"
    assert kinds["Kerja sama itu akan dimulai tahun depan."] == "sentence"


def test_short_lines_inside_an_article_are_not_tag_clouds():
    src = "Pendahuluan\nNATO dibentuk pada 1949. Ia beranggotakan 32 negara.\nSejarah\nAliansi itu berkembang."
    assert [s.kind for s in segment(src)] == ["heading", "sentence", "sentence", "heading", "sentence"]


# --- the seed articles -------------------------------------------------------


def _seed(name: str) -> tuple[str, list]:
    path = next(p for p in SEEDS if p.name.startswith(name))
    src = path.read_text(encoding="utf-8")
    return src, segment(src, doc=path.stem)


def _line_ends(src: str) -> set[int]:
    return {m.start() for m in re.finditer(r"[ \t\xa0]*(?:\r?\n|\Z)", src)}


def test_seed_abbreviations_never_end_a_segment():
    for seed in SEEDS:
        src = seed.read_text(encoding="utf-8")
        ends = _line_ends(src)
        for s in segment(src):
            for abbr in ("Jenderal.", "Mayor.", "kol.", "adm.", "D.C."):
                if s.text.endswith(abbr):
                    assert s.end in ends, f"{seed.name}: segment ends inside a line at {abbr!r}: {s.text[-60:]!r}"
    _, segs = _seed("003")
    assert any("Jenderal. Mayor. Kim Su-kwang dan Staf Jenderal. Mayor. Francesco Diella" in s.text for s in segs)
    assert any("Juru bicara JCS kol. Lee Sung-jun menjelaskan" in s.text for s in segs)
    assert any("ketua Komite Militer NATO, adm. Perjalanan langka Rob Bauer" in s.text for s in segs)


def test_seed_footnote_marker_boundaries():
    src, segs = _seed("000")
    ends = {s.end for s in segs}
    starts = {s.start for s in segs}
    body = src[: src.index("\n[1] ")]
    after_marker = [m.end(1) for m in re.finditer(r"[.!?…][”’\"]?(\[\d+\])\s+[A-Z“]", body)]
    assert len(after_marker) >= 6
    assert all(e in ends for e in after_marker)
    # A marker inside a sentence stays where it is.
    inside = [m.end() for m in re.finditer(r"\w\[\d+\]", body)]
    assert inside and not any(e in ends for e in inside)
    assert not any(src[st] == "[" for st in starts if st < len(body))
    assert "Ukraina mungkin merupakan Asia Timur di masa depan.”[2]" in [s.text[-55:] for s in segs]


def test_seed_reference_list_one_segment_per_reference():
    src, segs = _seed("000")
    ref_lines = [line for line in src.splitlines() if re.match(r"\[\d+\]", line)]
    refs = [s.text for s in segs if s.kind == "reference"]
    assert len(ref_lines) == 24
    assert refs == [line.strip() for line in ref_lines]


def test_seed_web_boilerplate_is_boilerplate():
    found = {(p.name[:3], s.text) for p in SEEDS for s in segment(p.read_text(encoding="utf-8")) if s.kind == "boilerplate"}
    tags = ["Tokoh", "Partai", "Institusi", "K / L", "BUMN", "NGO", "Organisasi", "Perusahaan", "Kab/Kota", "Provinsi",
            "Topik", "Kasus", "Agama", "Brand", "Club Sports", "Event", "Grup Musik", "Hewan", "Tanaman", "Produk",
            "Statement", "Fasum", "Transportasi"]
    expected = {("004", t) for t in ["ADVERTISEMENT", "SCROLL TO RESUME CONTENT", "[Gambas:Video CNBC]", "Artikel Selanjutnya",
                                      "Awas Kim Jong Un Ngamuk, AS-Jepang-Korsel Ancam Korut", "(sef/sef)", *tags]}
    expected |= {("002", "Pop Kultur"), ("002", "Jepang dan NATO Perkuat Kolaborasi Keamanan Global")}
    assert found == expected


def test_seed_meta_and_headings():
    kinds = {(p.name[:3], s.text): s.kind for p in SEEDS for s in segment(p.read_text(encoding="utf-8"))}
    for key in [("003", "15 Februari 2023"), ("004", "1 February 2023, 8:03"), ("001", "MAI NGUYEN"),
                ("001", "Foto: Nato.int"), ("002", "Sumber: ©︎ Japan Today | Dok: © Kyodo")]:
        assert kinds[key] == "meta", key
    for key in [("000", "Evolusi hubungan NATO dengan Jepang dan Korea Selatan"),
                ("000", "Pergerakan NATO ke arah Timur Laut: Apa alasan strategisnya?"),
                ("003", "Mengapa NATO pimpinan AS mencari kerja sama?"), ("004", "Kenapa Korsel dan Jepang?"),
                ("002", "Kemitraan NATO dan Negara Indo-Pasifik")]:
        assert kinds[key] == "heading", key


# --- English, user rules -------------------------------------------------------


def test_english_rules():
    src = ("Mr. Smith met Dr. Jones and Gen. Lee on Jan. 5 in Washington. They talked. "
           "The U.S. Army sent aid. Sales rose at Acme Inc. The firm grew. It was big, etc. and more.")
    assert texts(src, lang="en") == [
        "Mr. Smith met Dr. Jones and Gen. Lee on Jan. 5 in Washington.", "They talked.", "The U.S. Army sent aid.",
        "Sales rose at Acme Inc.", "The firm grew.", "It was big, etc. and more."]
    assert texts("He lives in the U.S. He works there.", lang="en") == ["He lives in the U.S.", "He works there."]


def test_user_rules_file_extends_the_packaged_rules(tmp_path: Path):
    src = "Ia tinggal di Kel. Menteng. Ia guru di Smp. Negeri 1 Jakarta."
    assert len(texts(src)) == 3  # "Smp." is not known
    extra = tmp_path / "mine.txt"
    extra.write_text("# my abbreviations\n[nonbreaking]\nSmp\n", encoding="utf-8")
    rules = Rules.load("id", extra=[extra])
    assert [s.text for s in segment(src, rules=rules)] == ["Ia tinggal di Kel. Menteng.", "Ia guru di Smp. Negeri 1 Jakarta."]


def test_bad_rules_are_clear_errors(tmp_path: Path):
    bad = tmp_path / "bad.txt"
    bad.write_text("[boilerplate]\n(unclosed\n", encoding="utf-8")
    with pytest.raises(RulesError, match=r"bad\.txt:2: bad pattern"):
        Rules.load("id", extra=[bad])
    with pytest.raises(RulesError, match="no segmentation rules for language 'xx'"):
        segment("x", lang="xx")


# --- CLI ---------------------------------------------------------------------------


def test_cli_segment_text_and_jsonl(cli, tmp_path: Path):
    a = tmp_path / "a.txt"
    b = tmp_path / "b.txt"
    a.write_text("Judul Berita\nIni kalimat satu. Ini kalimat dua.\n", encoding="utf-8")
    b.write_text("ADVERTISEMENT\nKalimat lain.", encoding="utf-8")
    r = cli("segment", str(a), str(b))
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Judul Berita\nIni kalimat satu.\nIni kalimat dua.\n\nADVERTISEMENT\nKalimat lain.\n"
    r = cli("segment", str(a), str(b), "--format", "jsonl")
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert rows[1] == {"doc": "a", "index": 1, "text": "Ini kalimat satu.", "start": 13, "end": 30, "paragraph": 1,
                       "kind": "sentence"}
    assert [(x["doc"], x["kind"]) for x in rows] == [("a", "heading"), ("a", "sentence"), ("a", "sentence"),
                                                     ("b", "boilerplate"), ("b", "sentence")]


def test_cli_segment_bad_input_is_one_line(cli, tmp_path: Path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"ok\n\xff\n")
    r = cli("segment", str(bad))
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "bad.txt:2" in r.stderr


# --- the bench's scoring -------------------------------------------------------------


def test_bench_f1_on_a_hand_made_example(tmp_path: Path):
    from bench.segment_eval import boundaries, main, score

    # Whitespace-free positions: "Ab." = 3, "Cd." = 6; the document end (9) is not a boundary.
    assert boundaries("A b.  C d.\nE f.", ["A b.", "C d.", "E f."]) == {3, 6}
    assert boundaries("A b. C d. E f.", ["A b. C d.", "E  f."]) == {6}
    with pytest.raises(ValueError):
        boundaries("A b. C d.", ["A b.", "X d."])
    docs = [
        {"text": "A b. C d. E f.", "sentences": ["A b.", "C d.", "E f."]},  # gold {3, 6}
        {"text": "G h. I j.", "sentences": ["G h. I j."]},  # gold {}
    ]
    predictions = {"A b. C d. E f.": ["A b. C d.", "E f."], "G h. I j.": ["G h.", "I j."]}  # {6}, {3}
    s = score(docs, lambda t: predictions[t])
    assert (s.tp, s.fp, s.fn) == (1, 1, 1)
    assert s.precision == pytest.approx(0.5) and s.recall == pytest.approx(0.5) and s.f1 == pytest.approx(0.5)
    perfect = score(docs, lambda t: next(d["sentences"] for d in docs if d["text"] == t))
    assert perfect.f1 == 1.0

    data = tmp_path / "data"
    data.mkdir()
    real = [
        {"text": "Ia datang. Ia pergi. Kami tinggal.", "sentences": ["Ia datang.", "Ia pergi.", "Kami tinggal."]},
        {"text": "Harga naik. Ia senang.", "sentences": ["Harga naik. Ia senang."]},  # one gold unit
    ]
    (data / "tiny.jsonl").write_text("\n".join(json.dumps(d) for d in real), encoding="utf-8")
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main([str(data), "--repeat", "1"]) == 0
    last = json.loads(out.getvalue().strip().splitlines()[-1])
    # ours splits both documents at every sentence: tp 2, fp 1, fn 0 -> P 2/3, R 1, F1 0.8
    assert last["tiny.jsonl"] == 0.8
    assert last["MB/s"] > 0


def test_sentences_using_web_words_are_not_boilerplate():
    for line in ["Lihat juga data BPS yang menunjukkan kenaikan 5 persen.", "Hak cipta atas karya itu dimiliki negara.",
                 "Iklan rokok dilarang di televisi sejak 2012.", "Oleh karena itu, NATO memperkuat kerja sama."]:
        assert [s.kind for s in segment(line)] == ["sentence"], line
    for line in ["Copyright © 2023 CNBC Indonesia", "© Kompas.com", "Hak Cipta Dilindungi Undang-Undang", "Advertorial",
                 "Baca selengkapnya", "Share this article", "12 Komentar"]:
        assert [s.kind for s in segment(line)] == ["boilerplate"], line
