"""Ingest is atomic: killed at any moment it leaves the previous index answering; one at a time; readers follow."""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from zonebot import ZoneBot
from zonebot.errors import IngestLockedError
from zonebot.index import current_generation

pytestmark = pytest.mark.slow

SEED = Path(__file__).resolve().parent.parent / "corpus"
JINQIAO = "jinqiao-development-zone.txt"
NAMES = ["Baolan", "Chenhai", "Dongfeng", "Hualin", "Kangqiao", "Luoning", "Minghai", "Qingxi", "Ruiyang",
         "Taihe", "Wanxin", "Xinglong", "Yuanze", "Zhaofeng", "Hengyu", "Lanyi"]  # fmt: skip


def add_zone_docs(corpus: Path, names: list[str]) -> list[str]:
    """Copies of the Jinqiao page rewritten for other (invented) zones, with their own areas."""
    text = (SEED / JINQIAO).read_text(encoding="utf-8")
    made = []
    for name in names:
        rng = random.Random(name)
        area = f"{rng.uniform(5, 95):.2f}"
        body = text.replace("Jinqiao", name).replace("20.48", area)
        body = re.sub(r"\b(19|20)\d\d\b", lambda _m: str(rng.randint(1985, 2020)), body)  # noqa: B023
        path = corpus / f"zone-{name.lower()}.txt"
        path.write_text(body, encoding="utf-8")
        made.append(path.name)
    return made


def start_ingest(corpus: Path, index: Path, wait: bool = False) -> subprocess.Popen[bytes]:
    code = (
        "import sys; from zonebot import ZoneBot; "
        f"r = ZoneBot(corpus_dir={str(corpus)!r}, index_dir={str(index)!r}).ingest(wait={wait}); "
        "print('DONE', r.passages, len(r.added))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZONEBOT_")}
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


def wait_for_lock(index: Path, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    """Until ``proc`` holds the ingest lock (it writes its pid into ``.lock``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if (index / ".lock").read_text().strip() == f"pid {proc.pid}":
                return
        except OSError:
            pass
        assert proc.poll() is None, f"ingest ended before taking the lock: {proc.communicate()}"
        time.sleep(0.05)
    raise AssertionError("ingest never took the lock")


def assert_answers(index: Path, corpus: Path) -> None:
    """A fresh bot over ``index`` gives the cited Jinqiao answer."""
    answer = ZoneBot(corpus_dir=corpus, index_dir=index).ask("How large is the Jinqiao zone?")
    assert "20.48" in answer.text, answer.text
    assert {c.source for c in answer.citations} == {JINQIAO}


@pytest.fixture
def seeded(tmp_path: Path) -> tuple[Path, Path]:
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(SEED, corpus)
    ZoneBot(corpus_dir=corpus, index_dir=index).ingest()
    return corpus, index


def test_kill_9_during_ingest_leaves_the_previous_index_answering(seeded: tuple[Path, Path]) -> None:
    corpus, index = seeded
    rng = random.Random(6)
    names = iter(NAMES)
    # One ingest run to the end gives its length on this machine; the kills land at fractions of it:
    # process start, model load, embedding, writing.
    add_zone_docs(corpus, [next(names), next(names)])
    t0 = time.monotonic()
    proc = start_ingest(corpus, index)
    assert proc.wait() == 0, proc.communicate()
    full = time.monotonic() - t0
    kills = 0
    for fraction in (0.15, 0.4, 0.65, 0.9):
        add_zone_docs(corpus, [next(names), next(names)])
        before = current_generation(index)
        proc = start_ingest(corpus, index)
        time.sleep(full * fraction * rng.uniform(0.9, 1.1))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait()
        after = current_generation(index)
        # The previous generation, or a new one that the killed ingest had already swapped in whole (the
        # swap is its last step: a kill between it and the process's exit leaves a complete new index).
        assert after is not None and (after == before or proc.returncode == 0 or (index / after / "manifest.json").exists())
        assert_answers(index, corpus)
    assert kills >= 3, f"only {kills} of 4 ingests were still running when killed (a full one took {full:.1f}s)"

    report = ZoneBot(corpus_dir=corpus, index_dir=index).ingest()
    files = sorted(p.name for p in corpus.iterdir() if p.suffix == ".txt")
    final = ZoneBot(corpus_dir=corpus, index_dir=index)
    assert sorted(d["source"] for d in final.documents()) == files
    assert report.passages == len(final.snapshot.passages) == final.snapshot.vectors.count()
    assert not final.is_stale()
    assert len([p for p in index.iterdir() if p.name.startswith("gen-")]) <= 2, "half-built generations remain"
    answer = final.ask("How large is the Kangqiao zone?")
    assert {c.source for c in answer.citations} == {"zone-kangqiao.txt"}


def test_second_ingest_refuses_or_waits_while_one_runs(seeded: tuple[Path, Path]) -> None:
    corpus, index = seeded
    add_zone_docs(corpus, NAMES[:6])
    proc = start_ingest(corpus, index)
    try:
        wait_for_lock(index, proc)
        bot = ZoneBot(corpus_dir=corpus, index_dir=index)
        with pytest.raises(IngestLockedError, match=rf"another ingest is already running on .*pid {proc.pid}.*--wait"):
            bot.ingest()
        report = bot.ingest(wait=True)  # queues behind the running one, then finds little left to do
        assert proc.wait(timeout=300) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert report.embedded == 0
    assert sorted(d["source"] for d in bot.documents()) == sorted(
        p.name for p in corpus.iterdir() if p.suffix == ".txt"
    )
    assert_answers(index, corpus)


def test_long_lived_bot_answers_during_ingest_and_follows_it(seeded: tuple[Path, Path]) -> None:
    corpus, index = seeded
    bot = ZoneBot(corpus_dir=corpus, index_dir=index)
    jinshan = "jinshan-district-industrial-parks.txt"
    assert jinshan in {c.source for c in bot.ask("Which industrial parks are in Jinshan district?").citations}

    add_zone_docs(corpus, NAMES[:6])
    (corpus / jinshan).unlink()
    proc = start_ingest(corpus, index)
    asked = 0
    try:
        wait_for_lock(index, proc)
        while proc.poll() is None:  # questions while the ingest runs are answered from the old generation
            answer = bot.ask("How large is the Jinqiao zone?")
            assert "20.48" in answer.text
            asked += 1
        assert proc.returncode == 0, proc.communicate()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert asked >= 1

    answer = bot.ask("How large is the Baolan zone?")  # the new generation, without a restart
    assert {c.source for c in answer.citations} == {"zone-baolan.txt"}
    assert not answer.abstained
    for question in ("Which industrial parks are in Jinshan district?", "What are the Jinshan industrial parks?"):
        assert jinshan not in {c.source for c in bot.ask(question).citations}
    assert all(p.source != jinshan for p in bot.retrieve("Jinshan district industrial parks", k=20))
