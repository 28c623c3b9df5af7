"""A batch that survives real input: bad files, over-long segments, degenerate drafts,
interruption (SIGKILL) and a second run on the same output folder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aligner.batch.pipeline import run_batch, translate_file
from aligner.batch.state import STATE_DIR, OutputBusy, lock_output
from aligner.formats.files import InputError, read_article, read_input
from aligner.formats.tmx import read_tmx
from aligner.formats.units import draft_units
from aligner.translate.translator import REDECODE_NGRAM, Translator
from tests.conftest import ROOT, FakeBackend

ARTICLES = {
    "a1": "Tentara datang.\n\nKapal itu besar.\n",
    "a2": "Menteri pertahanan berbicara.\n",
    "a3": "Pesawat baru tiba.\n\nLatihan bersama dimulai.\n",
    "a4": "Kapal selam berlayar.\n",
    "a5": "Radar dipasang.\n",
}
# Longer articles after the first two, so a kill after two finished articles lands mid-batch.
SENTENCES = [f"Kapal nomor {i} berlayar ke pelabuhan baru." for i in range(4)]
KILL_ARTICLES = {
    "k1": "Tentara datang.\n", "k2": "Kapal itu besar.\n",
    **{f"k{n}": "\n\n".join(SENTENCES[n:] + SENTENCES[:n]) + "\n" for n in (3, 4, 5)},
}


def write_articles(folder: Path, articles: dict[str, str] = ARTICLES) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in articles.items():
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    return folder


def tmx_units(out: Path) -> dict[str, list]:
    return {p.name: read_tmx(p) for p in sorted(out.glob("*.tmx"))}


def stamp(path: Path) -> tuple[int, int]:
    st_ = path.stat()
    return st_.st_ino, st_.st_mtime_ns


# One torch thread: on a shared 2-core machine it is several times faster than two.
ONE_THREAD = {"OMP_NUM_THREADS": "1"}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def translator(tiny_model) -> Translator:
    return Translator(tiny_model, beam=1, batch_size=4, max_new_tokens=8)


# --- bad files ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"", "empty file"),
        (b"  \n\t\n", "empty file"),
        (b"\xef\xbb\xbf\n", "empty file"),
        (b"PK\x03\x04\x00\x00binary", "binary file"),
        (b"\xff\xfeK\x00a\x00", "UTF-16"),
        (b"Kapal itu besar.\nCaf\xe9 itu.\n", ":2: not valid UTF-8 (byte 0xe9"),
    ],
)
def test_bad_files_raise_one_line_naming_file_and_reason(tmp_path: Path, content: bytes, reason: str):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(InputError) as err:
        read_article(path)
    assert str(err.value).startswith(str(path)) and reason in str(err.value) and "\n" not in str(err.value)


def test_bom_is_accepted_and_stripped(tmp_path: Path):
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbfKapal itu besar.\n")
    assert read_article(path) == "Kapal itu besar.\n"


def test_missing_and_unreadable_files(tmp_path: Path, monkeypatch):
    with pytest.raises(InputError, match="nope.txt: no such file"):
        read_input(tmp_path / "nope.txt")
    locked = tmp_path / "locked.txt"
    locked.write_text("Kapal.", encoding="utf-8")

    def denied(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    # Tests may run as root, where chmod 000 does not stop reading.
    monkeypatch.setattr(Path, "open", denied)
    with pytest.raises(InputError, match="locked.txt: cannot read: permission denied"):
        read_input(locked)


def test_cli_batch_goes_on_past_bad_files_and_exits_1(tmp_path: Path, tiny_model_dir: Path, cli):
    src = write_articles(tmp_path / "in", {"good": "Kapal itu besar.\n"})
    (src / "empty.txt").write_bytes(b"")
    (src / "latin1.txt").write_bytes(b"Caf\xe9 itu.\n")
    (src / "binary.txt").write_bytes(b"\x00\x01\x02")
    long_line = ", ".join(["Tentara datang dari Jakarta"] * 6) + ".\n"
    (src / "table.txt").write_text(long_line, encoding="utf-8")
    out = tmp_path / "out"
    result = cli("translate", str(src), str(tmp_path / "missing.txt"), "--out", str(out),
                 "--model", str(tiny_model_dir), "--beam", "1", "--max-input-tokens", "16", env=ONE_THREAD)
    assert result.returncode == 1, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("aligner: error:")]
    assert len(errors) == 4, result.stderr
    for name, reason in [("empty.txt", "empty file"), ("latin1.txt", "not valid UTF-8"),
                         ("binary.txt", "binary file"), ("missing.txt", "no such file")]:
        assert any(name in e and reason in e for e in errors), (name, errors)
    assert "Traceback" not in result.stderr
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert sorted(Path(p).name for p in report["failed"]) == ["binary.txt", "empty.txt", "latin1.txt", "missing.txt"]
    assert {Path(f["path"]).name: f["status"] for f in report["files"]}["good.txt"] == "ok"
    # The over-long line was split, not truncated; it is marked and every character is in the TMX.
    (unit,) = read_tmx(out / "table.tmx")
    assert unit.source == long_line.strip()
    assert int(unit.prop("x-split")) >= 2
    assert any("split into" in n for n in unit.notes)
    assert report["split"] >= 1
    # The tiny model's random weights loop: flagged in notes and counted, never hidden.
    assert report["degenerate"] == sum(any("degenerate" in n for n in u.notes)
                                       for units in tmx_units(out).values() for u in units)




# --- over-long segments ---------------------------------------------------------------


def spy_model(translator: Translator, monkeypatch, request) -> tuple[list[str], list[int]]:
    """Record the texts given to the decoder and the token counts the encoder really receives."""
    texts: list[str] = []
    seen: list[int] = []
    encoder = translator.loaded.model.get_encoder()
    backend = translator.backend
    decode = backend.translate_batch

    def spy_decode(batch, **options):
        if not options.get("no_repeat_ngram_size"):
            texts.extend(batch)
        return decode(batch, **options)

    # What the encoder is given is what the model reads.  A hook, not a replaced forward:
    # generate passes the encoder only the arguments its forward's signature names.
    def spy_encoder(module, args, kw):
        seen.extend(int(n) for n in kw["attention_mask"].sum(dim=1))

    monkeypatch.setattr(backend, "translate_batch", spy_decode)
    request.addfinalizer(encoder.register_forward_pre_hook(spy_encoder, with_kwargs=True).remove)
    return texts, seen


def test_no_source_character_is_dropped_on_the_way_to_the_model(tiny_model, monkeypatch, request):
    """A 5,000-character flattened table goes to the model whole, in pieces under the model's limit."""
    t = Translator(tiny_model, beam=1, batch_size=8, max_new_tokens=4)
    assert t.max_input_tokens == 512
    cells = [f"Kolom {i} berisi {i * 37} unit alutsista; status: aktif" for i in range(100)]
    source = " | ".join(cells)[:5000]
    assert t.token_length(source) > 512
    texts, seen = spy_model(t, monkeypatch, request)
    (draft,) = t.translate([source])
    # Pieces go to the model in length-sorted batches, so compare them as a multiset.
    pieces = t.split_for_model(source)
    assert "".join(pieces) == source and sorted(texts) == sorted(pieces)
    assert draft.pieces == len(texts) >= 2
    first_pass = seen[: len(texts)]
    # What the encoder received is each piece's full tokenisation: nothing truncated.
    assert first_pass == [t.token_length(p) for p in texts]
    assert max(first_pass) <= 512


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet=st.sampled_from(list("Kapl itu besr, dan; TNI-AD.\u00e9\u2014 \t")), min_size=1, max_size=400),
       limit=st.integers(min_value=8, max_value=40))
def test_pieces_for_the_model_rebuild_the_segment(translator: Translator, text: str, limit: int):
    translator.max_input_tokens = limit
    try:
        pieces = translator.split_for_model(text)
    finally:
        translator.max_input_tokens = 512
    assert "".join(pieces) == text
    assert all(translator.token_length(p) <= limit for p in pieces)


def test_split_unit_is_marked(tiny_model):
    t = Translator(tiny_model, beam=1, max_input_tokens=10, max_new_tokens=4)
    source = "Tentara datang dari Jakarta, kapal itu besar sekali, pesawat baru tiba di Surabaya."
    (draft,) = t.translate([source])
    assert draft.pieces >= 2 and draft.source == source
    (unit,) = draft_units("d", [__import__("aligner.segment", fromlist=["segment"]).segment(source)[0]], [draft], "m")
    assert unit.prop("x-split") == str(draft.pieces)
    assert any("10-token input limit" in n for n in unit.notes)


# --- degenerate drafts ----------------------------------------------------------------


def test_degenerate_drafts_are_redecoded_once_with_a_guard_and_flagged_if_still_bad(tiny_model):
    calls: list[tuple[list[str], int]] = []
    outputs = {
        ("Kapal itu besar.", 0): "The ship is big.",
        ("Saya minta maaf.", 0): "I'm sorry I'm sorry I'm sorry I'm sorry",
        ("Saya minta maaf.", REDECODE_NGRAM): "I'm sorry.",
        ("Berisik sekali.", 0): "",
        ("Berisik sekali.", REDECODE_NGRAM): "noise noise noise noise noise",
    }

    def fake_decode(texts, no_repeat_ngram_size=0):
        calls.append((list(texts), no_repeat_ngram_size))
        return [outputs[(x, no_repeat_ngram_size)] for x in texts]

    t = Translator(tiny_model, beam=1, backend=FakeBackend(fake_decode))
    ok, fixed, bad = t.translate(["Kapal itu besar.", "Saya minta maaf.", "Berisik sekali."])
    # Batches are length-sorted: the order inside a call is not the input's.
    assert [(sorted(texts), n) for texts, n in calls] == [
        (sorted(["Kapal itu besar.", "Saya minta maaf.", "Berisik sekali."]), 0),
        (sorted(["Saya minta maaf.", "Berisik sekali."]), REDECODE_NGRAM),
    ]
    assert (ok.text, ok.redecoded, ok.degenerate, ok.flags) == ("The ship is big.", False, "", ())
    assert (fixed.text, fixed.redecoded, fixed.degenerate, fixed.flags) == ("I'm sorry.", True, "", ())
    assert bad.redecoded and bad.degenerate.startswith("repetition loop")
    units = draft_units("d", [__import__("aligner.segment", fromlist=["segment"]).segment(s)[0]
                              for s in ("Kapal itu besar.", "Saya minta maaf.", "Berisik sekali.")],
                        [ok, fixed, bad], "m")
    assert [bool(u.notes) for u in units] == [False, False, True]
    assert "degenerate draft" in units[2].notes[0] and f"no_repeat_ngram_size={REDECODE_NGRAM}" in units[2].notes[0]


def test_report_counts_degenerate_and_redecoded(tmp_path: Path, tiny_model):
    t = Translator(tiny_model, beam=1, backend=FakeBackend(lambda texts, n=0: ["" if "maaf" in x else "Fine." for x in texts]))
    path = tmp_path / "doc.txt"
    path.write_text("Kapal itu besar.\n\nSaya minta maaf.\n", encoding="utf-8")
    report = translate_file(path, tmp_path / "out", t)
    assert (report.redecoded, report.degenerate, report.split) == (1, 1, 0)


# --- interruption and resume ----------------------------------------------------------


def test_rerun_keeps_done_articles_and_redoes_what_changed(tmp_path: Path, translator: Translator):
    src = write_articles(tmp_path / "in", {k: ARTICLES[k] for k in ("a1", "a2", "a3")})
    files = sorted(src.glob("*.txt"))
    out = tmp_path / "out"
    first = run_batch(files, out, translator)
    assert not any(r.reused for r in first)
    stamps = {p.name: stamp(p) for p in out.glob("*.tmx")}
    units = tmx_units(out)

    again = run_batch(files, out, translator)
    assert all(r.reused for r in again)
    assert {p.name: stamp(p) for p in out.glob("*.tmx")} == stamps

    # Changed input, lost marker, lost TMX: only those are redone; a killed write's temp file is cleaned.
    (src / "a1.txt").write_text("Kapal itu kecil.\n", encoding="utf-8")
    (out / STATE_DIR / "a2.json").unlink()
    (out / "a3.tmx").unlink()
    (out / ".a3.tmx.abc123.tmp").write_bytes(b"<half")
    third = run_batch(files, out, translator)
    assert [r.reused for r in third] == [False, False, False]
    assert not list(out.glob(".*.tmp"))
    assert tmx_units(out)["a2.tmx"] == units["a2.tmx"] and tmx_units(out)["a3.tmx"] == units["a3.tmx"]
    assert tmx_units(out)["a1.tmx"][0].source == "Kapal itu kecil."

    # Other settings are a different fingerprint; --overwrite redoes all.
    other = Translator(translator.loaded, beam=2, batch_size=4, max_new_tokens=8)
    assert not any(r.reused for r in run_batch(files[:1], out, other))
    assert not any(r.reused for r in run_batch(files, out, translator, overwrite=True))
    assert all(r.reused for r in run_batch(files, out, translator))


def test_report_is_merged_across_runs(tmp_path: Path, translator: Translator):
    src = write_articles(tmp_path / "in", {k: ARTICLES[k] for k in ("a4", "a5")})
    out = tmp_path / "out"
    run_batch([src / "a4.txt"], out, translator)
    run_batch([src / "a5.txt", src / "gone.txt"], out, translator)
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert [Path(f["path"]).name for f in report["files"]] == ["a4.txt", "a5.txt", "gone.txt"]
    assert [Path(p).name for p in report["failed"]] == ["gone.txt"]


class Killed(BaseException):
    """Stands in for SIGKILL inside one process."""


@pytest.mark.parametrize("where", ["translate_file", "mark_done"])
def test_crash_before_or_after_the_tmx_write_resumes_to_the_same_result(
    tmp_path: Path, translator: Translator, monkeypatch, where: str
):
    src = write_articles(tmp_path / "in", {k: ARTICLES[k] for k in ("a1", "a2", "a4")})
    files = sorted(src.glob("*.txt"))
    run_batch(files, tmp_path / "ref", translator)

    import aligner.batch.pipeline
    import aligner.batch.state

    module = aligner.batch.pipeline if where == "translate_file" else aligner.batch.state
    real = getattr(module, where)
    count = {"n": 0}

    def dies_on_second(*a, **kw):
        count["n"] += 1
        if count["n"] == 2:
            if where == "mark_done":
                pass  # the TMX is already written: die before the marker
            raise Killed
        return real(*a, **kw)

    monkeypatch.setattr(module, where, dies_on_second)
    with pytest.raises(Killed):
        run_batch(files, tmp_path / "out", translator)
    monkeypatch.setattr(module, where, real)
    resumed = run_batch(files, tmp_path / "out", translator)
    assert [r.reused for r in resumed] == [True, False, False]
    assert tmx_units(tmp_path / "out") == tmx_units(tmp_path / "ref")


def test_sigkill_mid_batch_then_rerun_matches_an_uninterrupted_run(tmp_path: Path, tiny_model_dir: Path, tiny_model, cli):
    src = write_articles(tmp_path / "in", KILL_ARTICLES)
    # torch, like the in-process reference run below.
    args = ["--model", str(tiny_model_dir), "--beam", "1", "--batch-size", "4", "--backend", "torch"]
    ref, out = tmp_path / "ref", tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", **ONE_THREAD}
    proc = subprocess.Popen([sys.executable, "-m", "aligner", "translate", str(src), "--out", str(out), *args],
                            cwd=ROOT, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    done_lines = 0
    try:
        for line in proc.stderr:
            if " -> " in line:
                done_lines += 1
            if done_lines == 2:
                proc.send_signal(signal.SIGKILL)
                break
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    finished = sorted(p.name for p in out.glob("*.tmx"))
    assert 2 <= len(finished) < len(KILL_ARTICLES)
    stamps = {name: stamp(out / name) for name in finished}

    resumed = cli("translate", str(src), "--out", str(out), *args, env=ONE_THREAD)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stderr.count("already done with the same settings, kept") == len(finished)
    assert {name: stamp(out / name) for name in finished} == stamps  # not redone
    # The uninterrupted reference runs in this process (same code and settings, one
    # interpreter start-up less: importing torch is the slowest part of a CLI run).
    assert tiny_model.name == str(tiny_model_dir)
    with lock_output(ref):
        run_batch(sorted(src.glob("*.txt")), ref, Translator(tiny_model, beam=1, batch_size=4))
    assert tmx_units(out) == tmx_units(ref)
    assert len(tmx_units(out)) == len(KILL_ARTICLES)
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert sorted(Path(f["path"]).name for f in report["files"]) == sorted(f"{k}.txt" for k in KILL_ARTICLES)
    assert not list(out.glob(".*.tmp"))


# --- two runs on one output folder ----------------------------------------------------


def test_lock_refuses_a_second_holder(tmp_path: Path):
    with lock_output(tmp_path):
        with pytest.raises(OutputBusy, match="another aligner run is writing to this folder"):
            with lock_output(tmp_path):
                pass
    with lock_output(tmp_path):  # released on exit
        pass


def test_second_cli_run_on_a_busy_folder_is_refused_cleanly(tmp_path: Path, tiny_model_dir: Path, cli):
    src = write_articles(tmp_path / "in", {"a2": ARTICLES["a2"]})
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.tmx").write_bytes(b"untouched")
    with lock_output(out):
        result = cli("translate", str(src), "--out", str(out), "--model", str(tiny_model_dir), "--beam", "1", env=ONE_THREAD)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("aligner: error: ")
    assert "another aligner run" in result.stderr and "Traceback" not in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["keep.tmx"]
    assert (out / "keep.tmx").read_bytes() == b"untouched"


def test_two_inputs_with_one_output_name_do_not_overwrite_each_other(tmp_path: Path, translator: Translator):
    first = write_articles(tmp_path / "x", {"same": ARTICLES["a2"]}) / "same.txt"
    second = write_articles(tmp_path / "y", {"same": ARTICLES["a4"]}) / "same.txt"
    reports = run_batch([first, second], tmp_path / "out", translator)
    assert [r.status for r in reports] == ["ok", "failed"]
    assert "same name as" in reports[1].error
    assert read_tmx(tmp_path / "out" / "same.tmx")[0].source == ARTICLES["a2"].strip()


def test_glossary_terms_are_not_cut_when_splitting(tiny_model, termbase):
    t = Translator(tiny_model, glossary=termbase, beam=1, max_new_tokens=4)
    source = "Menurut Sekretaris Jenderal NATO, latihan bersama dengan Program Kemitraan dan Kerja Sama Individu berjalan baik."
    hits = termbase.match(source)
    assert len(hits) == 2, "the test needs multi-word glossary terms in the source"
    # Room for the longest term, not for the sentence: the terms fit, so they must stay whole.
    t.max_input_tokens = max(t.token_length(h.matched) for h in hits) + 1
    assert t.token_length(source) > t.max_input_tokens
    (draft,) = t.translate([source])
    assert draft.pieces >= 2 and [h.term.id for h in draft.hits] == [h.term.id for h in hits]
    pieces = t.split_for_model(source, hits)
    assert len(pieces) >= 2 and "".join(pieces) == source
    edges = {sum(map(len, pieces[:i])) for i in range(1, len(pieces))}
    assert not any(h.start < e < h.end for h in hits for e in edges)


def test_degenerate_redecode_can_be_turned_off_but_still_flags(tiny_model):
    calls: list[int] = []

    def fake_decode(texts, no_repeat_ngram_size=0):
        calls.append(no_repeat_ngram_size)
        return ["I'm sorry I'm sorry I'm sorry I'm sorry" for _ in texts]

    t = Translator(tiny_model, beam=1, redecode_degenerate=False, backend=FakeBackend(fake_decode))
    (draft,) = t.translate(["Saya minta maaf."])
    assert calls == [0]
    assert not draft.redecoded and draft.degenerate.startswith("repetition loop") and draft.flags
