"""One bad file never stops the work, and documents in any script are read, split and found.

One corpus holds the seed documents, documents in five scripts and encodings, and files whose
name, sidecar, type or parser is a problem; it is ingested once. The permission tests run the
real ``zonebot`` command in a child process without the capability that lets root read any file.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import SEED_CORPUS, cited_sources, free_port
from tests.test_robustness import BROKEN_UTF8, _encrypted_pdf
from zonebot import ZoneBot
from zonebot.cli import main
from zonebot.loading import scan
from zonebot.models import IngestReport
from zonebot.splitting import split_sentences

CHINESE = (
    "金桥经济技术开发区位于上海浦东新区，总面积为二十点四八平方公里，是先进制造业的重要基地。\n\n"
    "开发区重点发展智能制造、新能源汽车和人工智能等战略性新兴产业，并持续优化营商环境。\n"
)
CYRILLIC = (
    "Промышленная зона Цзиньшань занимает двадцать девять квадратных километров на юге Шанхая.\n\n"
    "В зоне работают более трёхсот предприятий химической промышленности и новых материалов.\n"
)
ARABIC = "تقع منطقة لينغانغ الخاصة في جنوب شرق شانغهاي وتبلغ مساحتها ثمانمائة وثلاثة وسبعين كيلومترا مربعا.\n"
HEBREW = "אזור התעשייה של סונגג'יאנג נמצא בדרום מערב שנגחאי ומשתרע על פני שישים קילומטרים רבועים.\n"
LATIN1_NAME = b"caf\xe9-zone.txt"  # a Latin-1 file name: not valid UTF-8
DISPLAY_NAME = "caf\\xe9-zone.txt"


def _prose(subject: str) -> bytes:
    return (
        f"The {subject} covers 12 square kilometers in Fengxian district and hosts more than eighty "
        f"food companies.\n\nThe {subject} was founded in 2004 to serve the southern suburbs of Shanghai.\n"
    ).encode()


# name -> (document bytes, sidecar bytes or None)
FILES: dict[str, tuple[bytes, bytes | None]] = {
    "zh/jinqiao-zh.txt": (CHINESE.encode(), None),
    "ru/jinshan-ru.txt": (CYRILLIC.encode(), None),
    "ar/lingang-ar.txt": (ARABIC.encode(), None),
    "he/songjiang-he.txt": (HEBREW.encode(), None),
    "utf16be-nobom.txt": (_prose("Nanqiao Utf Park").decode().encode("utf-16-be"), None),
    "utf32le-nobom.txt": (_prose("Zhuanghang Wide Park").decode().encode("utf-32-le"), None),
    "sidecar-list.txt": (_prose("Haiwan Listed Park"), b"[]"),
    "sidecar-null.txt": (_prose("Situan Null Park"), b"null"),
    "sidecar-broken.txt": (_prose("Jinhui Broken Park"), b'{"title": "unterminated'),
    "sidecar-surrogate.txt": (_prose("Fengcheng Escape Park"), b'{"title": "Fengcheng \\ud800 profile"}'),
    ".draft.txt": (_prose("Hidden Draft Park"), None),
    ".git/config.txt": (_prose("Hidden Folder Park"), None),
    "notes.docx": (b"PK\x03\x04 not really a document", None),
    "README": (_prose("Extensionless Park"), None),
    # The earlier robustness list, in the same corpus.
    "empty.txt": (b"", None),
    "binary.txt": (bytes(range(256)) * 64, None),
    "corrupt.pdf": (b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage \x00\xff truncated", None),
    "no-text.html": (b"<html><<<>>><script>var x = 1;</script></html>", None),
    "broken-utf8.txt": (BROKEN_UTF8, None),
}
BAD = {
    "empty.txt": "file is empty",
    "binary.txt": "binary data",
    "corrupt.pdf": "corrupt PDF",
    "encrypted.pdf": "PDF is encrypted",
    "no-text.html": "no prose left after removing page chrome",
    "pipe.txt": "not a regular file",
    "linked.txt": "links are not followed",
}


@pytest.fixture(scope="module")
def corpus_bot(tmp_path_factory: pytest.TempPathFactory) -> tuple[ZoneBot, IngestReport]:
    base = tmp_path_factory.mktemp("isolation")
    corpus = base / "corpus"
    shutil.copytree(SEED_CORPUS, corpus)
    for name, (data, sidecar) in FILES.items():
        path = corpus / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        if sidecar is not None:
            path.with_name(path.name + ".meta.json").write_bytes(sidecar)
    with open(os.path.join(os.fsencode(corpus), LATIN1_NAME), "wb") as fh:
        fh.write(_prose("Qingcun Food Park"))
    (corpus / "encrypted.pdf").write_bytes(_encrypted_pdf())
    os.mkfifo(corpus / "pipe.txt")  # reading it would block forever
    os.symlink(corpus / "ru" / "jinshan-ru.txt", corpus / "linked.txt")
    bot = ZoneBot(corpus_dir=corpus, index_dir=base / "index")
    return bot, bot.ingest()


def _by_source(items: list) -> dict[str, str]:  # type: ignore[type-arg]
    return {s.source: s.reason for s in items}


def test_every_good_document_is_indexed_whatever_its_name_sidecar_or_encoding(corpus_bot) -> None:  # type: ignore[no-untyped-def]
    bot, report = corpus_bot
    indexed = {d["source"] for d in bot.documents()}
    good = {n for n in FILES if not n.startswith(".") and n.endswith(".txt") and n not in BAD} | {DISPLAY_NAME}
    assert good <= indexed, (good - indexed, report.summary())
    assert not indexed & set(BAD)


@pytest.mark.parametrize(("source", "reason"), BAD.items())
def test_every_bad_file_is_named_with_its_reason(corpus_bot, source: str, reason: str) -> None:  # type: ignore[no-untyped-def]
    _, report = corpus_bot
    assert reason in _by_source(report.skipped)[source]
    assert f"skipped {source}: " in report.summary()


def test_the_ingest_command_exits_0_on_the_hostile_corpus(corpus_bot, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    bot, _ = corpus_bot
    args = ["ingest", "--corpus", str(bot.settings.corpus_dir), "--index", str(bot.settings.index_dir)]
    assert main(args) == 0
    out = capsys.readouterr().out
    for source in [*BAD, ".git/", "sidecar-list.txt"]:
        assert f" {source}: " in out


def test_a_latin1_file_name_is_answerable_under_an_escaped_name(corpus_bot) -> None:  # type: ignore[no-untyped-def]
    bot, report = corpus_bot
    assert DISPLAY_NAME in report.added
    answer = bot.ask("How large is the Qingcun Food Park?")
    assert "12 square kilometers" in answer.text
    assert cited_sources(answer) == {DISPLAY_NAME}


@pytest.mark.parametrize(
    ("source", "warning"),
    [
        ("sidecar-list.txt", "holds a JSON list, not an object"),
        ("sidecar-null.txt", "holds a JSON NoneType, not an object"),
        ("sidecar-broken.txt", "is not valid JSON"),
    ],
)
def test_a_bad_sidecar_is_a_warning_and_the_document_is_kept(corpus_bot, source: str, warning: str) -> None:  # type: ignore[no-untyped-def]
    bot, report = corpus_bot
    warnings = _by_source(report.warnings)
    assert warning in warnings[source]
    assert source in report.added and bot.document_text(source)
    assert f"warning {source}: sidecar" in report.summary()


def test_two_names_that_display_alike_are_not_mixed_up(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    with open(os.path.join(os.fsencode(corpus), LATIN1_NAME), "wb") as fh:
        fh.write(_prose("Qingcun Food Park"))
    (corpus / DISPLAY_NAME).write_bytes(_prose("Literal Backslash Park"))  # the escape, typed as a name
    found = scan(corpus)
    assert len(found.files) == 1
    [ignored] = found.ignored
    assert ignored.source == DISPLAY_NAME and "same as another file's" in ignored.reason


def test_a_sidecar_with_a_lone_surrogate_keeps_its_title_readable(corpus_bot) -> None:  # type: ignore[no-untyped-def]
    bot, _ = corpus_bot
    info = {d["source"]: d for d in bot.documents()}["sidecar-surrogate.txt"]
    assert info["title"] == "Fengcheng \ufffd profile"


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        (".draft.txt", "hidden file"),
        (".git/", "hidden folder"),
        ("notes.docx", "unsupported type: .docx files are not read"),
        ("README", "unsupported type: files without an extension are not read"),
    ],
)
def test_hidden_and_unsupported_files_are_reported_as_ignored(corpus_bot, source: str, reason: str) -> None:  # type: ignore[no-untyped-def]
    _, report = corpus_bot
    assert reason in _by_source(report.ignored)[source]
    assert f"ignored {source}: {reason}" in report.summary()


def test_utf16_and_utf32_without_a_byte_order_mark_are_text(corpus_bot) -> None:  # type: ignore[no-untyped-def]
    bot, _ = corpus_bot
    assert "The Nanqiao Utf Park covers 12 square kilometers" in (bot.document_text("utf16be-nobom.txt") or "")
    assert "The Zhuanghang Wide Park covers 12 square kilometers" in (bot.document_text("utf32le-nobom.txt") or "")


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ("zh/jinqiao-zh.txt", "金桥经济技术开发区位于上海浦东新区"),
        ("ru/jinshan-ru.txt", "Промышленная зона Цзиньшань"),
        ("ar/lingang-ar.txt", "منطقة لينغانغ الخاصة"),
        ("he/songjiang-he.txt", "אזור התעשייה של סונגג'יאנג"),
    ],
)
def test_prose_in_any_script_is_kept(corpus_bot, source: str, words: str) -> None:  # type: ignore[no-untyped-def]
    bot, _ = corpus_bot
    assert words in (bot.document_text(source) or "")


def test_chinese_is_split_at_its_own_full_stops() -> None:
    text = "金桥开发区位于浦东。它成立于一九九零年！产业以制造业为主？是的"
    assert [text[a:b] for a, b in split_sentences(text)] == [
        "金桥开发区位于浦东。", "它成立于一九九零年！", "产业以制造业为主？", "是的",
    ]  # fmt: skip


def test_cyrillic_is_split_into_sentences_but_not_after_an_abbreviation() -> None:
    text = "Зона занимает 20 км. Она создана в 1990 году, т.е. давно. Работают заводы."
    assert [text[a:b] for a, b in split_sentences(text)] == [
        "Зона занимает 20 км.", "Она создана в 1990 году, т.е. давно.", "Работают заводы.",
    ]  # fmt: skip


def test_a_chinese_question_finds_the_chinese_passage_first(corpus_bot) -> None:  # type: ignore[no-untyped-def]
    bot, _ = corpus_bot
    passages = bot.retrieve("金桥开发区重点发展哪些新兴产业")
    assert passages[0].source == "zh/jinqiao-zh.txt"
    assert "战略性新兴产业" in passages[0].text


def test_a_cyrillic_question_finds_the_cyrillic_passage_first(corpus_bot) -> None:  # type: ignore[no-untyped-def]
    bot, _ = corpus_bot
    passages = bot.retrieve("Сколько предприятий химической промышленности работают в зоне Цзиньшань?")
    assert passages[0].source == "ru/jinshan-ru.txt"


def test_reingesting_keeps_the_warnings_and_embeds_nothing(corpus_bot) -> None:  # type: ignore[no-untyped-def]
    bot, report = corpus_bot
    again = bot.ingest()
    assert again.embedded == 0 and not again.changed
    assert _by_source(again.warnings) == _by_source(report.warnings)
    assert _by_source(again.ignored) == _by_source(report.ignored)
    assert not bot.is_stale()


def test_a_missing_optional_parser_library_skips_only_the_files_that_need_it(tmp_path: Path) -> None:
    """Without lxml_html_clean (as on a clean install with an old pip), HTML files are skipped; the rest is indexed."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "page.html").write_text(f"<html><body><p>{_prose('Html Park').decode()}</p></body></html>")
    (corpus / "notes.txt").write_bytes(_prose("Plain Text Park"))
    code = (
        "import json, sys\n"
        "sys.modules['lxml_html_clean'] = sys.modules['lxml.html.clean'] = None  # as if not installed\n"
        "from zonebot import ZoneBot\n"
        f"report = ZoneBot(corpus_dir={str(corpus)!r}, index_dir={str(tmp_path / 'index')!r}).ingest()\n"
        "print(json.dumps(report.to_dict()))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["added"] == ["notes.txt"]
    [skipped] = report["skipped"]
    assert skipped["source"] == "page.html" and "a library needed to read .html files is missing" in skipped["reason"]


# -- a corpus that becomes unreadable --------------------------------------------------------------
NO_DAC = ["setpriv", "--inh-caps=-dac_override,-dac_read_search", "--bounding-set=-dac_override,-dac_read_search"]
needs_setpriv = pytest.mark.skipif(
    shutil.which("setpriv") is None or os.geteuid() != 0,
    reason="needs root and setpriv to drop CAP_DAC_OVERRIDE (the suite runs as root in CI)",
)


@pytest.fixture
def locked_corpus(tmp_path: Path) -> tuple[Path, Path]:
    """An indexed copy of the seed corpus in which, afterwards, one file and one folder became unreadable."""
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(SEED_CORPUS, corpus)
    (corpus / "private").mkdir()
    (corpus / "private" / "memo.txt").write_bytes(_prose("Locked Memo Park"))
    ZoneBot(corpus_dir=corpus, index_dir=index).ingest()
    os.chmod(corpus / "jinshan-district-industrial-parks.txt", 0)
    os.chmod(corpus / "private", 0)
    os.chmod(corpus / "jinqiao-development-zone.txt.meta.json", 0)
    yield corpus, index
    os.chmod(corpus / "private", 0o755)


def _zonebot(*args: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    cmd = [*NO_DAC, sys.executable, "-m", "zonebot", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


@needs_setpriv
def test_ask_answers_after_a_corpus_file_becomes_unreadable(locked_corpus: tuple[Path, Path]) -> None:
    corpus, index = locked_corpus
    out = _zonebot("ask", "How large is the Jinqiao zone?", "--corpus", str(corpus), "--index", str(index))
    assert out.returncode == 0, out.stderr
    assert "20.48" in out.stdout and "Traceback" not in out.stderr


@needs_setpriv
def test_ingest_names_the_unreadable_file_and_folder(locked_corpus: tuple[Path, Path]) -> None:
    corpus, index = locked_corpus
    out = _zonebot("ingest", "--json", "--corpus", str(corpus), "--index", str(index))
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert {
        "source": "jinshan-district-industrial-parks.txt",
        "reason": "cannot read file (Permission denied)",
    } in report["skipped"]
    assert {"source": "private/", "reason": "folder cannot be read (Permission denied)"} in report["ignored"]
    assert "jinshan-district-industrial-parks.txt" in report["removed"]
    # An unreadable sidecar costs the metadata, not the document.
    [warning] = report["warnings"]
    assert warning["source"] == "jinqiao-development-zone.txt" and "cannot be read" in warning["reason"]
    assert "jinqiao-development-zone.txt" in report["updated"]


@needs_setpriv
def test_ask_answers_when_the_whole_corpus_folder_becomes_unreadable(locked_corpus: tuple[Path, Path]) -> None:
    corpus, index = locked_corpus
    os.chmod(corpus, 0)
    try:
        asked = _zonebot("ask", "How large is the Jinqiao zone?", "--corpus", str(corpus), "--index", str(index))
        ingested = _zonebot("ingest", "--corpus", str(corpus), "--index", str(index))
    finally:
        os.chmod(corpus, 0o755)
    assert asked.returncode == 0 and "20.48" in asked.stdout, asked.stderr
    # An ingest refuses (rather than emptying the index) and says why.
    assert ingested.returncode == 2 and "cannot be read (Permission denied)" in ingested.stderr


def test_ask_answers_after_the_corpus_folder_is_deleted(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SEED_CORPUS, corpus)
    ZoneBot(corpus_dir=corpus, index_dir=tmp_path / "index").ingest()
    shutil.rmtree(corpus)
    bot = ZoneBot(corpus_dir=corpus, index_dir=tmp_path / "index")
    assert bot.ensure_index() is None
    assert "20.48" in bot.ask("How large is the Jinqiao zone?").text


@pytest.mark.slow
@needs_setpriv
def test_serve_starts_and_answers_after_a_corpus_file_becomes_unreadable(locked_corpus: tuple[Path, Path]) -> None:
    corpus, index = locked_corpus
    port = free_port()
    cmd = [*NO_DAC, sys.executable, "-m", "zonebot", "serve", "--port", str(port),
           "--corpus", str(corpus), "--index", str(index)]  # fmt: skip
    server = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and server.poll() is None:
            try:
                urllib.request.urlopen(url, timeout=2).close()
                break
            except OSError:
                time.sleep(1)
        assert server.poll() is None, server.communicate()[1]
        from gradio_client import Client

        result = Client(url, verbose=False).predict(question="How large is the Jinqiao zone?", api_name="/ask")
        assert "20.48" in result["text"]
    finally:
        server.terminate()
        out, err = server.communicate(timeout=30)
    # The start says where everything is, and nothing else: no library debug lines, no share=True hint.
    assert f"MCP tools:  {url}gradio_api/mcp/" in err and f"OpenAI API: {url}v1" in err
    assert "DEBUG" not in out + err and "share=True" not in out + err
