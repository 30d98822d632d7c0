"""A clean install, as a new user makes it: a fresh venv with the interpreter's own pip (not upgraded),
``pip install .``, then the installed ``zonebot`` ingests an HTML page, a PDF and a Markdown file.

This is CI's plain-pip install step: it catches a dependency that is imported but not declared, or
one that only a newer pip resolves (``lxml[html_clean]`` with pip 23).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_robustness import LINGANG_HTML, TEXT_PDF, ZHANGJIANG_MD

ROOT = Path(__file__).resolve().parent.parent


def _run(*cmd: str | Path, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    out = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}"
    return out


@pytest.mark.slow
def test_plain_pip_install_in_a_fresh_venv_ingests_html_pdf_and_markdown(tmp_path: Path) -> None:
    # A copy of the sources: pip builds in the source tree, which must stay clean.
    source = tmp_path / "zonebot"
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    venv = tmp_path / "venv"
    # The base interpreter's venv module installs the pip it ships with; no upgrade.
    _run(getattr(sys, "_base_executable", sys.executable), "-m", "venv", venv)
    pip = venv / "bin" / "pip"
    # The CPU build first, as the README says; --no-compile only saves time (byte-compiling torch).
    _run(pip, "install", "-q", "--no-compile", "torch==2.13.0")
    _run(pip, "install", "-q", "--no-compile", source)
    _run(pip, "check")

    corpus = tmp_path / "corpus"
    (corpus / "news").mkdir(parents=True)
    (corpus / "lingang.html").write_text(LINGANG_HTML)
    (corpus / "songjiang.pdf").write_bytes(TEXT_PDF)
    (corpus / "news" / "zhangjiang.md").write_text(ZHANGJIANG_MD)
    zonebot = venv / "bin" / "zonebot"
    out = _run(zonebot, "ingest", "--json", "--corpus", corpus, "--index", tmp_path / "index")
    report = json.loads(out.stdout)
    assert sorted(report["added"]) == ["lingang.html", "news/zhangjiang.md", "songjiang.pdf"], report
    assert report["skipped"] == []
    out = _run(
        zonebot, "ask", "How large is the Lingang Special Area?", "--corpus", corpus, "--index", tmp_path / "index"
    )
    assert "873 square kilometers" in out.stdout
