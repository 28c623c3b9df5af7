"""OmegaT (a real CAT tool, headless) reads what we hand translators: our segmentation rules,
our approved TMX in tm/auto/, and our XLIFF as a source file.

Needs Java and OmegaT (Debian: default-jre-headless, omegat; see .ci/system-deps); skipped without.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from lxml import etree

from aligner.formats.tmx import write_tmx
from aligner.formats.xliff import XLIFF_NS, write_xliff
from aligner.segment import Rules, segment
from aligner.segment.srx import omegat_conf_bytes
from tests.conftest import SEEDS
from tests.seeds_tmx import approve, seed_units

OMEGAT_JAR = Path(os.environ.get("OMEGAT_JAR", "/usr/share/omegat/OmegaT.jar"))
JAVA = shutil.which("java")

pytestmark = pytest.mark.skipif(
    JAVA is None or not OMEGAT_JAR.is_file(),
    reason=f"needs Java and OmegaT ({OMEGAT_JAR}); install default-jre-headless and omegat (.ci/system-deps)",
)

PROJECT_FILE = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<omegat>
  <project version="1.0">
    <source_dir>__DEFAULT__</source_dir>
    <target_dir>__DEFAULT__</target_dir>
    <tm_dir>__DEFAULT__</tm_dir>
    <glossary_dir>__DEFAULT__</glossary_dir>
    <glossary_file>__DEFAULT__</glossary_file>
    <dictionary_dir>__DEFAULT__</dictionary_dir>
    <source_lang>id</source_lang>
    <target_lang>en</target_lang>
    <source_tok>org.omegat.tokenizer.DefaultTokenizer</source_tok>
    <target_tok>org.omegat.tokenizer.DefaultTokenizer</target_tok>
    <sentence_seg>true</sentence_seg>
    <support_default_translations>true</support_default_translations>
    <remove_tags>false</remove_tags>
  </project>
</omegat>
"""


def _project(root: Path, our_rules: bool = True) -> Path:
    for sub in ("source", "target", "tm/auto", "glossary", "dictionary", "omegat"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    (root / "omegat.project").write_text(PROJECT_FILE, encoding="utf-8")
    if our_rules:
        (root / "omegat" / "segmentation.conf").write_bytes(omegat_conf_bytes({"id": Rules.load("id")}))
    return root


def _run_omegat(project: Path, config: Path) -> str:
    """Translate ``project`` headless; OmegaT's console output and log, together."""
    config.mkdir(parents=True, exist_ok=True)
    # A proxy nobody listens on: should OmegaT try the network, it fails at once.
    cmd = [JAVA, "-Djava.awt.headless=true", "-Dfile.encoding=UTF-8", "-Dhttp.proxyHost=127.0.0.1",
           "-Dhttp.proxyPort=9", "-Dhttps.proxyHost=127.0.0.1", "-Dhttps.proxyPort=9", "-Xmx512m", "-XX:TieredStopAtLevel=1",
           "-jar", str(OMEGAT_JAR), str(project), "--mode=console-translate", f"--config-dir={config}"]
    env = {**os.environ, "HOME": str(config)}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    logs = "".join(p.read_text(errors="replace") for p in (config / "logs").glob("*.log"))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return proc.stdout + proc.stderr + logs


def _total_segments(project: Path) -> tuple[int, int]:
    """(segments, remaining) from OmegaT's project_stats.txt."""
    stats = (project / "omegat" / "project_stats.txt").read_text(encoding="utf-8")
    row = lambda name: next(line for line in stats.splitlines() if line.startswith(name)).split()  # noqa: E731
    return int(row("Total:")[1]), int(row("Remaining:")[1])


def test_omegat_reuses_every_approved_unit_with_our_segmentation(tmp_path: Path):
    units = [approve(u) for u in seed_units() if u.target]  # the approved-only TMX for tm/auto/
    project = _project(tmp_path / "project")
    for seed in SEEDS:
        shutil.copy(seed, project / "source" / seed.name)
    write_tmx(units, project / "tm" / "auto" / "aligner.tmx")
    log = _run_omegat(project, tmp_path / "config")

    assert "TF_TM_LOAD_ERROR" not in log and "CORE_SRX_EXC_LOADING_SEG_RULES" not in log, log[-3000:]
    translated = {p.name: p.read_text(encoding="utf-8") for p in (project / "target").glob("*.txt")}
    assert sorted(translated) == sorted(s.name for s in SEEDS)
    missing = [u.source for u in units if not any(u.target in text for text in translated.values())]
    assert not missing, f"{len(missing)} approved unit(s) not in OmegaT's output, e.g. {missing[:3]}"
    # No segment became empty: every non-blank source line has a non-blank translated line.
    for seed in SEEDS:
        src = seed.read_text(encoding="utf-8").splitlines()
        out = translated[seed.name].splitlines()
        assert len(out) == len(src)
        assert all(o.strip() for s, o in zip(src, out) if s.strip()), seed.name
    segments, remaining = _total_segments(project)
    ours = sum(len(segment(s.read_text(encoding="utf-8"))) for s in SEEDS)
    assert segments == ours and segments - remaining >= len(units)


def test_omegat_opens_our_xliff_as_a_source_file(tmp_path: Path):
    units = seed_units()
    units = [approve(u) if n % 2 and u.target else u for n, u in enumerate(units)]
    project = _project(tmp_path / "project")
    write_xliff(units, project / "source" / "seeds.xlf")
    log = _run_omegat(project, tmp_path / "config")

    assert "Error:" not in log and "Exception" not in log, log[-3000:]
    segments, _ = _total_segments(project)
    assert segments >= sum(u.prop("x-kind") != "boilerplate" for u in units)
    out = etree.parse(str(project / "target" / "seeds.xlf"))
    ids = [tu.get("id") for tu in out.iter(f"{{{XLIFF_NS}}}trans-unit")]
    assert ids == [u.tuid for u in units]
