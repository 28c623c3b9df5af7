"""The README's set-up commands are the ones CI runs."""

from __future__ import annotations

import re

from tests.conftest import ROOT


def _commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Set up", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.*?)\n```", section, re.S)


def test_readme_has_exactly_two_setup_commands():
    cmds = _commands()
    assert len(cmds) == 2
    assert "aligner translate seeds/" in cmds[0]
    assert "pytest" in cmds[1]


def test_ci_runs_the_readme_test_command():
    test_cmd = _commands()[1]
    # The venv creation is CI's own; the rest must be verbatim.
    tail = test_cmd.split(". .venv/bin/activate && ", 1)[1]
    assert tail in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
