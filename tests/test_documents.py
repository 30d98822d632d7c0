"""Real documents read whole: tables, PDF pages and layout, key–value profiles, encodings, long lines.

The field cases (``tests/documents/``, each folder one kind of document people save) and a few
documents written here share one index with the seed corpus (``documents_bot`` in conftest.py).
Whether an answer's wording is right also depends on the answer scorer; these tests hold the
reading side to account: the passage that answers is retrieved in the top five, cited, and
quoted cleanly (no running header glued on, no word broken by a hyphen).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tests.conftest import DOCUMENTS
from tests.pdfs import Page, make_pdf
from zonebot import ZoneBot
from zonebot.cleaning import clean_text
from zonebot.errors import LoadError
from zonebot.loading import decode_bytes, load_document

DIRECTORY_HTML = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Qiaolin Economic Development Zone - Industrial Park Directory</title></head><body>
<nav><a href="/">Home</a> | <a href="/parks">Parks</a> | <a href="/login">Sign in</a></nav>
<article>
<h1>Qiaolin Economic Development Zone</h1>
<table class="profile">
<tr><td>Rating</td><td>National level</td></tr>
<tr><td>Year of establishment</td><td>1994</td></tr>
<tr><td>Land area</td><td>29.4 km2</td></tr>
<tr><td>Major investors</td><td>Vantor Chemicals, Heliobright Glass</td></tr>
</table>
<dl><dt>Industries encouraged</dt><dd>precision machinery, electronic components</dd>
<dt>Distance to port</dt><dd>35 km</dd></dl>
<p>The Qiaolin Economic Development Zone lies on the northern bank of the Qiao River and is run by an
administrative committee of the county government.</p>
<table><caption>Output by year</caption>
<tr><th>Zone</th><th>Year</th><th>Output (billion yuan)</th></tr>
<tr><td rowspan="2">Qiaolin Economic Development Zone</td><td>2022</td><td>41.3</td></tr>
<tr><td>2023</td><td>45.9</td></tr>
</table>
</article><footer>Copyright 2024 Park Directory. All rights reserved.</footer></body></html>
"""

PROFILE_TXT = """Tianhe Bonded Logistics Park

Tianhe Bonded Logistics Park is a customs-supervised area beside the Tianhe container terminal.

Rating                  Provincial level
Year of establishment   2008
Land area               6.3 km2
Major investors         Orvane Shipping, Kestrel Freight

Contact: Tianhe park office
"""


def _statistics_pdf() -> bytes:
    """Three pages: a ruled table and an aligned key–value profile, an empty page, then prose."""
    first = (
        Page()
        .text(72, 740, "Harbour Zone Statistics 2024", 16, bold=True)
        .paragraph(72, 700, ["The Harbour Zone publishes its main figures every year. The table below gives",
                             "the figures for its three parks at the end of 2024."])  # fmt: skip
        .grid(72, 640, [180, 90, 120], [["Park", "Founded", "Area (km2)"], ["Aurora Chip Park", "2005", "3.2"],
                                         ["Borealis Bio Park", "2011", "5.9"], ["Cygnus Port Park", "1999", "12.4"]])
    )  # fmt: skip
    for i, (key, value) in enumerate([("Rating", "National level"), ("Land area", "21.7 km2"),
                                      ("Year of establishment", "1992")]):  # fmt: skip
        first.text(72, 540 - i * 15, key).text(260, 540 - i * 15, value)
    last = Page().paragraph(72, 700, ["All three parks are linked to the port by a freight railway opened in 2016."])
    return make_pdf([first, Page(), last], title="Harbour Zone Statistics")


def extra_documents() -> dict[str, bytes]:
    """Documents of the hidden kinds, written here: a directory page, a text profile, a PDF with tables."""
    return {
        "qiaolin-directory.html": DIRECTORY_HTML.encode(),
        "tianhe-profile.txt": PROFILE_TXT.encode(),
        "harbour-statistics.pdf": _statistics_pdf(),
    }


def _top5(answer) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(p.text for p in answer.passages[:5])


def _cited(answer, *needles: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The quotes of the answer's citations that hold every needle."""
    return [c.quote for c in answer.citations if all(n in c.quote for n in needles)]


def _assert_found(answer, *needles: str) -> str:  # type: ignore[no-untyped-def]
    """The sentence holding ``needles`` is in the top five passages and quoted by a citation; returns the quote."""
    assert all(n in _top5(answer) for n in needles), f"{needles} not in the top 5 passages:\n{_top5(answer)}"
    quotes = _cited(answer, *needles)
    assert quotes, f"no citation quotes {needles}: {[c.quote for c in answer.citations]}\n{answer.text}"
    assert not re.search(r"[a-z]- [a-z]", quotes[0]), f"a word broken at a line end: {quotes[0]!r}"
    return quotes[0]


# -- tables ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("question", "needles"),
    [
        ("When was the Nanling Battery Park founded?", ["Nanling Battery Park", "Founded: 2017"]),
        ("How large is the Dongxi Precision Park?", ["Dongxi Precision Park", "Area: 7.8 km²"]),
        ("What is the leading industry of the Beishan Pharma Park?", ["Beishan Pharma Park", "generic drugs"]),
    ],
)
def test_a_table_row_is_a_cited_passage_naming_its_row_and_column_headers(documents_bot, question, needles) -> None:  # type: ignore[no-untyped-def]
    bot, _ = documents_bot
    answer = bot.ask(question)
    quote = _assert_found(answer, *needles)
    assert quote.startswith(needles[0] + " — ")
    assert {c.source for c in answer.citations} & {"lakeside-parks.html", "lakeside-parks-md.md"}


@pytest.mark.parametrize("source", ["lakeside-parks.html", "lakeside-parks-md.md"])
def test_html_and_markdown_tables_read_alike_row_by_row(documents_bot, source: str) -> None:  # type: ignore[no-untyped-def]
    bot, report = documents_bot
    text = bot.document_text(source) or ""
    for row in ("Dongxi Precision Park — Founded: 2003; Area: 7.8 km²; Leading industry: machine tools.",
                "Xihu Textile Park — Founded: 1996; Area: 9.6 km²; Leading industry: technical fabrics."):  # fmt: skip
        assert f"\n\n{row}\n\n" in text, text
    assert source in report.added


def test_a_row_spanning_the_whole_table_is_a_sentence_of_its_own(documents_bot) -> None:  # type: ignore[no-untyped-def]
    bot, _ = documents_bot
    text = bot.document_text("lakeside-parks.html") or ""
    assert "\n\nBoth parks above share the Dongxi rail freight yard.\n\n" in text


def test_rowspan_cells_reach_every_row_they_cover(documents_bot) -> None:  # type: ignore[no-untyped-def]
    bot, _ = documents_bot
    text = bot.document_text("qiaolin-directory.html") or ""
    assert "Qiaolin Economic Development Zone — Year: 2022; Output: 41.3 billion yuan." in text
    assert "Qiaolin Economic Development Zone — Year: 2023; Output: 45.9 billion yuan." in text


@pytest.mark.parametrize(
    ("question", "needles"),
    [
        ("How large is the Qiaolin Economic Development Zone?", ["Qiaolin Economic Development Zone", "29.4 km2"]),
        ("When was the Qiaolin Economic Development Zone established?", ["Year of establishment: 1994"]),
        ("How large is the Tianhe Bonded Logistics Park?", ["Tianhe Bonded Logistics Park", "Land area: 6.3 km2"]),
    ],
)
def test_a_key_value_profile_answers_with_its_subject(documents_bot, question, needles) -> None:  # type: ignore[no-untyped-def]
    bot, _ = documents_bot
    _assert_found(bot.ask(question), *needles)


def test_definition_lists_and_profiles_become_rows_and_page_chrome_does_not(documents_bot) -> None:  # type: ignore[no-untyped-def]
    bot, _ = documents_bot
    html = bot.document_text("qiaolin-directory.html") or ""
    assert "Qiaolin Economic Development Zone — Industries encouraged: precision machinery, electronic components." in html
    assert "Qiaolin Economic Development Zone — Major investors: Vantor Chemicals, Heliobright Glass." in html
    assert "Sign in" not in html and "All rights reserved" not in html
    text = bot.document_text("tianhe-profile.txt") or ""
    assert "Tianhe Bonded Logistics Park — Major investors: Orvane Shipping, Kestrel Freight." in text


# -- PDF pages, headers, page breaks -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("question", "needles"),
    [
        ("When was the Nanpu Electronics Park founded?", ["Nanpu Electronics Park", "1998"]),
        ("How large is the Beitang Food Park?", ["Beitang Food Park", "3.4 square kilometers"]),
    ],
)
def test_every_page_of_a_pdf_is_indexed(documents_bot, question, needles) -> None:  # type: ignore[no-untyped-def]
    bot, _ = documents_bot
    answer = bot.ask(question)
    _assert_found(answer, *needles)
    assert "E-every-page-ends-mid-sentence.pdf" in {c.source for c in answer.citations}


def test_a_sentence_over_a_page_break_is_joined_and_no_page_becomes_the_title(documents_bot) -> None:  # type: ignore[no-untyped-def]
    bot, _ = documents_bot
    text = bot.document_text("E-every-page-ends-mid-sentence.pdf") or ""
    for sentence in ("It hosts 64 companies that assemble circuit boards and sensors for the car industry.",
                     "Its 41 companies process seafood and dairy products for export.",
                     "It has 77 companies that weave and dye technical fabrics.",
                     "All three parks share one customs office."):  # fmt: skip
        assert sentence in text
    doc = next(d for d in bot.documents() if d["source"] == "E-every-page-ends-mid-sentence.pdf")
    assert doc["title"] == "Harbour Parks Survey"


def test_a_running_header_and_footer_stay_out_of_passages_and_quotes(documents_bot) -> None:  # type: ignore[no-untyped-def]
    bot, _ = documents_bot
    answer = bot.ask("What was the industrial output value of the Meridian Bay Chemical Park in 2023?")
    quote = _assert_found(answer, "62.4 billion yuan")
    assert quote.startswith("In 2023 the park recorded an industrial output value of 62.4 billion yuan")
    for p in bot.snapshot.passages:
        if p.source == "B-running-header.pdf":
            assert "Annual Review" not in p.text and "internal circulation" not in p.text, p.text
    assert "23.6 square kilometers" in (bot.document_text("B-running-header.pdf") or "")


# -- hyphenation -----------------------------------------------------------------------------------------
def test_line_end_hyphens_are_rejoined_as_in_the_control(documents_bot) -> None:  # type: ignore[no-untyped-def]
    bot, report = documents_bot
    # Rejoined, the hyphenated PDF reads exactly as the control, so it is stored once.
    reasons = {s.source: s.reason for s in report.skipped}
    assert reasons.get("linhai-hyphenated.pdf") == "same text as linhai-control.pdf (stored once)"
    answer = bot.ask("How many manufacturers are in the Linhai Semiconductor Park?")
    _assert_found(answer, "thirty-one manufacturers")
    hits = bot.retrieve("photoresist", k=5, mode="bm25")
    assert hits and hits[0].source.startswith("linhai") and "photoresist" in hits[0].text


def test_a_hyphenated_pdf_read_alone_joins_broken_words_and_keeps_compounds() -> None:
    doc = load_document(DOCUMENTS / "pdf-hyphenation" / "linhai-hyphenated.pdf", "linhai-hyphenated.pdf")
    assert "thirty-one manufacturers of wafer-processing equipment" in doc.text
    assert "double its incubator space by 2026" in doc.text
    assert not re.search(r"\w- \w", doc.text)
    # Both halves are words and the dictionary lacks the whole: left to the corpus to decide.
    assert ("photo-resist", "photoresist") in doc.open_breaks


# -- two columns -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("question", "needles"),
    [
        ("How large is the Qinglan Harbour Logistics Park?", ["It covers 6.7 square kilometers and is run by a port authority company."]),
        ("When was the Fenghe Valley Materials Park founded?", ["The Fenghe Valley Materials Park lies forty kilometers inland and was founded in 2015."]),
    ],
)  # fmt: skip
def test_each_column_is_read_as_one_block(documents_bot, question, needles) -> None:  # type: ignore[no-untyped-def]
    bot, report = documents_bot
    answer = bot.ask(question)
    _assert_found(answer, *needles)
    assert "two-column-parks-rowstream.pdf" in {c.source for c in answer.citations}
    reasons = {s.source: s.reason for s in report.skipped}
    assert reasons.get("two-column-parks.pdf") == "same text as two-column-parks-rowstream.pdf (stored once)"


# -- PDF tables, empty pages, the report -------------------------------------------------------------------
def test_pdf_tables_ruled_or_aligned_become_rows(documents_bot) -> None:  # type: ignore[no-untyped-def]
    bot, _ = documents_bot
    text = bot.document_text("harbour-statistics.pdf") or ""
    assert "Borealis Bio Park — Founded: 2011; Area: 5.9 km2." in text
    assert "Harbour Zone Statistics 2024 — Land area: 21.7 km2." in text
    answer = bot.ask("When was the Borealis Bio Park founded?")
    _assert_found(answer, "Borealis Bio Park", "2011")


def test_a_page_without_text_is_reported(documents_bot) -> None:  # type: ignore[no-untyped-def]
    _, report = documents_bot
    warnings = [w.reason for w in report.warnings if w.source == "harbour-statistics.pdf"]
    assert any("page 2 of 3 yielded no text" in w for w in warnings), report.warnings


def test_the_report_says_how_much_of_each_document_became_passages(documents_bot) -> None:  # type: ignore[no-untyped-def]
    _, report = documents_bot
    coverage = {c.source: c for c in report.coverage}
    assert set(coverage) >= set(report.added)
    assert coverage["lakeside-parks.html"].share > 0.9
    assert coverage["B-running-header.pdf"].share > 0.9  # running lines are not counted as lost text
    assert "of its extracted text is in passages" in report.summary()


def test_a_document_that_is_mostly_left_out_gets_a_warning(tmp_path: Path) -> None:
    menu = "\n".join(f"Menu item {w}" for w in ("News", "About", "Services", "Contact", "Careers", "Media")) * 30
    path = tmp_path / "mostly-menu.txt"
    path.write_text(menu + "\n\nThe Lianhua zone covers 4.5 square kilometers and hosts 80 firms.\n")
    warnings: list[str] = []
    doc = load_document(path, path.name, warn=warnings.append)
    assert "4.5 square kilometers" in doc.text
    assert any("of its extracted text became passages" in w for w in warnings), warnings


# -- the prose filter ---------------------------------------------------------------------------------------
def test_lines_that_state_figures_are_kept_and_chrome_is_not() -> None:
    raw = ("Home>Parks\n\nSign in\n\nLianhua Industrial Park\n\nThe Lianhua Industrial Park is on the east bank.\n\n"
           "Total investment 3.2 billion yuan\n\nLand area: 4.5 km2\n\nview more »\n\n04-16 21315227 Processing\n")  # fmt: skip
    result = clean_text(raw)
    assert "Total investment 3.2 billion yuan" in result.text
    assert "Lianhua Industrial Park — Land area: 4.5 km2." in result.text
    for chrome in ("Home>", "Sign in", "view more", "21315227"):
        assert chrome not in result.text
    assert result.title == "Lianhua Industrial Park"


# -- encodings --------------------------------------------------------------------------------------------
FRENCH = "Le parc industriel de Montréal a été créé en 1992 et couvre 29,4 km². Les entreprises étrangères y sont nombreuses.\n"
CHINESE = "金桥经济技术开发区位于上海浦东新区，总面积为二十点四八平方公里，是先进制造业的重要基地。\n开发区重点发展智能制造和人工智能，2023年产值增长。\n"


def test_latin1_text_is_decoded_with_its_accents() -> None:
    assert decode_bytes(FRENCH.encode("latin-1")) == FRENCH


def test_utf16_chinese_without_a_byte_order_mark_is_decoded() -> None:
    assert decode_bytes(CHINESE.encode("utf-16-le")) == CHINESE
    assert decode_bytes(CHINESE.encode("utf-16-be")) == CHINESE


def test_a_file_mixing_encodings_keeps_every_line() -> None:
    data = "The zone report: “figures” below.\n".encode() + FRENCH.encode("latin-1") + "It covers 5 km².\n".encode()
    assert decode_bytes(data) == "The zone report: “figures” below.\n" + FRENCH + "It covers 5 km².\n"


def test_damaged_bytes_are_marked_not_guessed() -> None:
    data = "Shanghai’s zone.\n".encode() + b"It was approved by the State \xff\xfeCouncil in 1990.\n"
    assert "State \ufffd\ufffdCouncil" in decode_bytes(data)


def test_binary_data_is_refused() -> None:
    with pytest.raises(LoadError, match="binary"):
        decode_bytes(bytes(range(256)) * 8)


# -- long lines ---------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_a_5mb_file_on_one_line_ingests_within_twice_the_time_of_the_same_lines(tmp_path: Path) -> None:
    seed = " ".join(p.read_text(encoding="utf-8") for p in sorted((DOCUMENTS / ".." / ".." / "corpus").glob("*.txt")))
    prose = " ".join(s for s in re.split(r"\n+", seed) if s.strip().endswith(".") and len(s.split()) > 8)
    copies = 5_000_000 // len(prose) + 1
    seconds = {}
    for name, sep in (("lines.txt", "\n"), ("one-line.txt", " ")):
        corpus = tmp_path / name / "corpus"
        corpus.mkdir(parents=True)
        (corpus / name).write_text(sep.join([prose] * copies), encoding="utf-8")
        bot = ZoneBot(corpus_dir=corpus, index_dir=tmp_path / name / "index")
        bot.embedder.embed(["load the model before timing"])
        started = time.perf_counter()
        report = bot.ingest()
        seconds[name] = time.perf_counter() - started
        assert report.added == [name] and report.passages > 1000
    assert seconds["one-line.txt"] <= 2 * seconds["lines.txt"], seconds


# -- key–value profiles however a directory page marks them up ---------------------------------------------
_PAGE = ('<html><head><title>Lanshan Hi-tech Park - Park Directory</title></head><body><div id="nav">'
         '<a href="/">Home</a> &gt; <a href="/parks">Parks</a></div><div id="main"><h1>Lanshan Hi-tech Park</h1>{}'
         "<p>Lanshan Hi-tech Park is located in the west of Lanshan city. It was set up to attract high-tech "
         "manufacturers from abroad and has grown quickly in the last decade.</p></div><div id=\"footer\">"
         "Copyright 2024 Directory Ltd. All rights reserved.</div></body></html>")  # fmt: skip
_PROFILES = {
    "list items": "<ul><li><strong>Year of establishment:</strong> 1992</li><li><strong>Land area:</strong> "
                  "29.4 km2</li><li><strong>Major investors:</strong> Corvid Motors, Ameles Pharma</li></ul>",
    "line breaks": "<div><b>Year of establishment:</b> 1992<br><b>Land area:</b> 29.4 km2<br>"
                   "<b>Major investors:</b> Corvid Motors, Ameles Pharma</div>",
    "table with colon cells": "<table><tr><td>Year of establishment</td><td>:</td><td>1992</td></tr><tr><td>Land "
                              "area</td><td>:</td><td>29.4 km2</td></tr><tr><td>Major investors</td><td>:</td>"
                              "<td>Corvid Motors, Ameles Pharma</td></tr></table>",
    "aligned pre": "<pre>Year of establishment   1992\nLand area               29.4 km2\n"
                   "Major investors         Corvid Motors, Ameles Pharma</pre>",
    "span pairs": "".join(f'<div class="row"><span>{k}</span><span>{v}</span></div>' for k, v in (
        ("Year of establishment", "1992"), ("Land area", "29.4 km2"), ("Major investors", "Corvid Motors, Ameles Pharma"))),
}  # fmt: skip


@pytest.mark.parametrize("markup", sorted(_PROFILES))
def test_a_directory_profile_is_read_as_rows_whatever_its_markup(tmp_path: Path, markup: str) -> None:
    path = tmp_path / "lanshan.html"
    path.write_text(_PAGE.format(_PROFILES[markup]))
    doc = load_document(path, path.name)
    for row in ("Lanshan Hi-tech Park — Year of establishment: 1992.", "Lanshan Hi-tech Park — Land area: 29.4 km2.",
                "Lanshan Hi-tech Park — Major investors: Corvid Motors, Ameles Pharma."):  # fmt: skip
        assert f"{row}\n\n" in doc.text + "\n\n", doc.text
    assert "All rights reserved" not in doc.text and "Home" not in doc.text


def test_a_sentence_running_from_one_column_into_the_next_is_joined(tmp_path: Path) -> None:
    left = ["The Lianhe Port Park opened in 2012 on the", "east bank of the river and covers 9.1 square",
            "kilometers. Its largest tenant makes marine", "engines and ship parts for yards along the"]  # fmt: skip
    right = ["coast. The Songhe Park lies inland and was", "founded in 2003. It covers 4.4 square",
             "kilometers and employs about 3,100 people", "in food processing and packaging plants."]  # fmt: skip
    first = Page().text(72, 740, "Two Parks Compared", 16, bold=True).text(72, 40, "Regional Report - page 1", 8)
    for i, (a, b) in enumerate(zip(left, right, strict=True)):  # the text layer runs row by row across both
        first.text(54, 700 - i * 15, a, 10).text(320, 700 - i * 15, b, 10)
    second = Page().paragraph(54, 700, ["Both parks are served by one rail line, opened in 2019."], 10)
    second.text(72, 40, "Regional Report - page 2", 8)
    path = tmp_path / "two-parks.pdf"
    path.write_bytes(make_pdf([first, second]))
    doc = load_document(path, path.name)
    assert "Its largest tenant makes marine engines and ship parts for yards along the coast." in doc.text
    assert "The Songhe Park lies inland and was founded in 2003." in doc.text
    assert "Regional Report" not in doc.text and doc.title == "Two Parks Compared"
