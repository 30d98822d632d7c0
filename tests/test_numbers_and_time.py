"""Identifiers, numbers and time: codes match exactly, numbers are read whole (in words too), a number in
a name is no figure, and a weekday or "last year" in a dated document is answered as the date it stands for.

The field cases (``tests/documents/exact-codes``, ``number-words``) and a dated article
(``relative-dates``) are asked through ``ZoneBot.ask`` on one index with the seed corpus
(``facts_bot``); what a sentence states is also checked on its own (``facts``)."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zonebot import facts
from zonebot.question import plan
from zonebot.retrieval import lexicon
from zonebot.tokens import tokenize

PLOTS = ("RS-0417", "RS-0471", "RS-1047", "RS-4017")
LESSEE = {"RS-0417": "industrial valves", "RS-0471": "bakery", "RS-1047": "lithium batteries", "RS-4017": "vacant"}


def lead(answer) -> str:  # type: ignore[no-untyped-def]
    """The direct answer: the words before the first marker."""
    return answer.text.split(" [", 1)[0]


# -- the field cases, asked ----------------------------------------------------------------------------


@pytest.mark.parametrize("code", PLOTS)
def test_a_plot_code_asked_is_matched_exactly(facts_bot, code: str) -> None:  # type: ignore[no-untyped-def]
    answer = facts_bot.ask(f"Who leases plot {code}?")
    assert not answer.abstained
    assert LESSEE[code] in answer.citations[0].quote
    assert set(re.findall(r"RS-\d{4}", answer.text)) == {code}  # no look-alike plot is quoted


def test_a_code_no_document_names_is_not_answered_with_a_look_alike(facts_bot) -> None:  # type: ignore[no-untyped-def]
    answer = facts_bot.ask("Who leases plot RS-0714?")
    assert answer.abstained
    assert not re.search(r"RS-(0417|0471|1047|4017)", answer.text)


def test_a_phone_number_is_given_whole(facts_bot) -> None:  # type: ignore[no-untyped-def]
    answer = facts_bot.ask("What is the hotline number of the Riverside Industrial Estate?")
    assert lead(answer) == "0571-8800-4417"
    assert "hotline is 0571-8800-4417" in answer.citations[0].quote


def test_a_count_beside_a_code_is_the_count(facts_bot) -> None:  # type: ignore[no-untyped-def]
    answer = facts_bot.ask("How many people does plot RS-0417 employ?")
    assert lead(answer) == "86"


def test_a_count_in_words_is_read_whole(facts_bot) -> None:  # type: ignore[no-untyped-def]
    institutes = facts_bot.ask("How many research institutes does the Tongxi Bio Park have?")
    assert lead(institutes) == "twenty-six"
    makers = facts_bot.ask("How many drug makers does the Tongxi Bio Park have?")
    assert lead(makers) == "forty-two"


def test_a_size_in_words_is_a_size(facts_bot) -> None:  # type: ignore[no-untyped-def]
    answer = facts_bot.ask("How large is the Tongxi Bio Park?")
    assert not answer.abstained
    assert lead(answer) == "three square kilometers"


def test_a_figure_in_words_is_compared_by_its_value(facts_bot) -> None:  # type: ignore[no-untyped-def]
    answer = facts_bot.ask("Does the Tongxi Bio Park have more than twenty research institutes?")
    assert answer.text.startswith("Yes")
    assert "twenty-six research institutes" in answer.citations[0].quote


def test_a_number_inside_a_name_is_not_a_count(facts_bot) -> None:  # type: ignore[no-untyped-def]
    # The sentence names "COVID-19" before it says "21 were signed last year".
    answer = facts_bot.ask("How many projects did the Bay Area zone sign last year?")
    assert lead(answer) == "21"


# -- time, asked ------------------------------------------------------------------------------------


def test_a_weekday_is_answered_as_the_date_it_stands_for(facts_bot) -> None:  # type: ignore[no-untyped-def]
    answer = facts_bot.ask("When was the Jinshan Industrial Park renamed?")  # an article dated 2022-08-18
    assert lead(answer) == "Tuesday, August 16, 2022"
    assert "Development Zone on Tuesday" in answer.citations[0].quote  # the quote keeps the source's words
    assert "on Tuesday" in answer.text


@pytest.mark.parametrize(
    ("question", "date", "words"),
    [
        ("When did the Alder Bay Logistics Park open its cold-chain terminal?", "Tuesday, March 12, 2024", "on Tuesday"),
        ("When will the Alder Bay Logistics Park open its rail freight yard?", "Monday, March 18, 2024", "next Monday"),
        ("In what year was the Alder Bay Logistics Park founded?", "2023", "founded last year"),
        ("When did the Alder Bay Logistics Park handle 1.8 million tonnes of cargo?", "the first half of 2023",
         "in the first half of last year"),
    ],
)
def test_relative_time_resolves_against_the_documents_date(facts_bot, question, date, words) -> None:  # type: ignore[no-untyped-def]
    answer = facts_bot.ask(question)  # an article published 2024-03-14, a Thursday
    assert lead(answer) == date
    assert words in answer.citations[0].quote


# -- what a sentence states -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "value"),
    [("twenty-six", 26), ("forty two", 42), ("three", 3), ("three hundred and five", 305), ("a hundred", 100),
     ("a dozen", 12), ("two thousand three hundred", 2300), ("nineteen", 19)],
)
def test_number_words_have_their_value(words: str, value: int) -> None:
    assert facts.word_value(words) == value


def test_a_count_in_words_is_one_span() -> None:
    sentence = "The park has twenty-six research institutes and forty-two drug makers."
    assert facts.span("count", sentence, ["research"]) == "twenty-six"
    assert facts.span("count", sentence, ["drug"]) == "forty-two"
    assert facts.numbers(sentence) == {"26", "42"}
    assert facts.span("size", "The park covers three square kilometers.") == "three square kilometers"
    assert facts.span("money", "It raised two billion yuan.") == "two billion yuan"
    assert not facts.states("count", "It runs a one-stop service center.")


def test_codes_and_phone_numbers_are_read_whole() -> None:
    text = "Plot RS-0417 employs 86 people; the hotline is 0571-8800-4417 and the plan runs 2021-2025."
    assert facts.codes(text) == ["RS-0417", "0571-8800-4417"]
    assert facts.numbers(text) == {"rs0417", "86", "057188004417", "2021", "2025"}
    assert facts.span("code", text, ["hotline"]) == "0571-8800-4417"
    assert facts.span("count", text) == "86"
    assert {"rs0417", "057188004417"} <= set(tokenize(text))  # search finds a code whole
    assert facts.codes("5G networks, 3D printing, the H7N9 strain, 20.48 km2, the 10th plan, the 1990s, 2022-08-18") \
        == ["5G", "3D", "H7N9"]  # fmt: skip


def test_a_code_is_met_only_by_itself() -> None:
    assert facts.unstated(["RS-0417"], "Plot RS-0471 is leased to a bakery.") == ["RS-0417"]
    assert facts.unstated(["RS-0417"], "Plot RS-04171 is vacant.") == ["RS-0417"]
    assert facts.unstated(["rs0417"], "Plot RS-0417 is leased to a valve maker.") == []


def test_a_number_inside_a_name_is_no_figure() -> None:
    assert facts.span("count", "Despite the COVID-19 resurgence, 21 projects were signed.") == "21"
    assert facts.span("count", "The zone hosts 36 Fortune 500 companies.") == "36"
    assert facts.span("count", "Its office is at No. 88 Tinglin Road.") is None
    assert facts.span("count", "Jinqiao's 300 companies export cars.") == "300"


@pytest.mark.parametrize(
    ("phrase", "sentence", "resolved"),
    [
        ("Tuesday", "The park was renamed on Tuesday.", "Tuesday, August 16, 2022"),
        ("Thursday", "The park was renamed on Thursday.", "Thursday, August 18, 2022"),  # the article's own day
        ("last Thursday", "It opened last Thursday.", "Thursday, August 11, 2022"),
        ("Tuesday", "The park will open on Tuesday.", "Tuesday, August 23, 2022"),
        ("next Monday", "It opens next Monday.", "Monday, August 22, 2022"),
        ("yesterday", "It was signed yesterday.", "Wednesday, August 17, 2022"),
        ("this year", "It opens this year.", "2022"),
        ("last year", "21 were signed last year.", "2021"),
        ("the first half of this year", "in the first half of this year", "the first half of 2022"),
        ("the first half", "Output rose in the first half.", "the first half of 2022"),
        ("last month", "It opened last month.", "July 2022"),
        ("August 16", "It was renamed on August 16.", "August 16, 2022"),
    ],
)
def test_relative_time_resolves_against_a_date(phrase: str, sentence: str, resolved: str) -> None:
    assert phrase in facts.span("time", sentence)  # type: ignore[operator]
    assert facts.resolve(phrase, sentence, "2022-08-18") == resolved  # a Thursday


def test_time_without_a_date_or_with_its_year_stays_as_written() -> None:
    assert facts.resolve("Tuesday", "renamed on Tuesday", None) == "Tuesday"
    assert facts.resolve("Tuesday", "renamed on Tuesday", "2022") == "Tuesday"  # a year gives no weekday
    assert facts.resolve("last year", "signed last year", "2022") == "2021"
    assert facts.resolve("January 5, 2020", "on January 5, 2020", "2022-08-18") == "January 5, 2020"
    assert facts.resolve("last month", "opened last month", "2023-01-09") == "December 2022"


def test_a_weekday_in_a_dated_sentence_gives_its_year() -> None:
    assert facts.sentence_years("It opened last Friday.", "2023-01-03") == {2022}
    assert facts.sentence_years("It opened on Tuesday.", "2022-08-18") == {2022}


def test_a_question_reads_its_codes_and_asks_for_an_identifier(facts_bot) -> None:  # type: ignore[no-untyped-def]
    lex = lexicon(facts_bot.snapshot)
    assert plan("Who leases plot RS-0417?", [], lex).parts[0].codes == ("RS-0417",)
    assert plan("What is the hotline number of the Jinqiao zone?", [], lex).parts[0].kind == "code"
    assert plan("What is the phone number of the Jinqiao zone?", [], lex).parts[0].kind == "code"
    assert plan("What is the total number of companies in the Jinqiao zone?", [], lex).parts[0].kind == "count"
    assert plan("How many phone makers are in the Jinqiao zone?", [], lex).parts[0].kind == "count"


PIECES = ["twenty", "-", "six", " ", "and", "a", "hundred", "dozen", "one", "RS", "0417", "0", ".", ",", "No.", "Fortune",
          "500", "Tuesday", "last", "next", "year", "the first half", "of", "this", "square kilometers", "yuan", "percent",
          "will", "2022", "\u200b", "金", "+"]  # fmt: skip


@settings(derandomize=True, max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=40).map("".join), st.sampled_from([None, "2022", "2022-08-18", "x"]))
def test_what_a_sentence_states_is_read_from_any_text(text: str, date: str | None) -> None:
    for kind in (*facts.KINDS, None):
        found = facts.span(kind, text, ["year", "rs"])
        assert found is None or found in text
        facts.states(kind, text)
    assert all(text[a:b] for a, b in facts.identifiers(text))
    facts.numbers(text), facts.figures(text), facts.sentence_years(text, date)
    assert isinstance(facts.resolve(text.strip() or "x", text, date), str)


def test_text_full_of_number_words_is_read_in_linear_time() -> None:
    text = " ".join(["twenty-one and one hundred and"] * 2000) + " Tuesday" * 2000  # 12,000 words in one sentence
    start = time.perf_counter()
    facts.numbers(text), facts.sentence_years(text, "2022-08-18")
    for kind in facts.KINDS:
        facts.span(kind, text)
    assert time.perf_counter() - start < 10  # about half a second; a search through the splits of the run never ends
