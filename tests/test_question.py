"""Reading a question: the plan (spelling, parts, comparisons, time, yes/no, language) and what
sentences state (direct-answer spans, years). Read against the real seed corpus's lexicon."""

from __future__ import annotations

import pytest

from zonebot import facts
from zonebot.question import plan
from zonebot.retrieval import lexicon


@pytest.fixture(scope="module")
def lex(bot):  # type: ignore[no-untyped-def]
    return lexicon(bot.snapshot)


def test_a_misspelled_name_is_read_as_the_corpus_name(lex) -> None:  # type: ignore[no-untyped-def]
    p = plan("How many compnaies are in the Jinqioa zone?", [], lex)
    assert ("Jinqioa", "Jinqiao") in p.corrections and ("compnaies", "companies") in p.corrections
    assert p.parts[0].names == ("jinqiao",) and not p.unknown


def test_a_name_near_no_corpus_name_stays_unknown(lex) -> None:  # type: ignore[no-untyped-def]
    assert plan("How big is Zhangjiang?", [], lex).unknown == ["zhangjiang"]
    assert plan("how big is zhangjiang", [], lex).unknown == ["zhangjiang"]


def test_names_every_document_uses_identify_no_subject(lex) -> None:  # type: ignore[no-untyped-def]
    # Which names tell documents apart comes from document frequency, not from a list.
    assert lex.is_subject("jinqiao") and lex.is_subject("pudong")
    common = [w for w in lex.names if not lex.is_subject(w)]
    assert all(len(lex.documents_naming(w)) == lex.n_docs for w in common)


def test_two_asks_become_two_parts_about_one_subject(lex) -> None:  # type: ignore[no-untyped-def]
    p = plan("When was Jinqiao approved, and how large is it?", [], lex)
    assert [part.kind for part in p.parts] == ["time", "size"]
    assert all(part.names == ("jinqiao",) for part in p.parts)


def test_a_comparison_becomes_one_part_per_subject(lex) -> None:  # type: ignore[no-untyped-def]
    p = plan("Which is older, Jinqiao or the Bay Area zone?", [], lex)
    assert p.comparison
    assert [part.names for part in p.parts] == [("jinqiao",), ("bay",)]
    assert all(part.kind == "time" for part in p.parts)


def test_one_name_with_and_inside_is_not_split(lex) -> None:  # type: ignore[no-untyped-def]
    p = plan("How large is the Jinqiao Economic and Technological Development Zone?", [], lex)
    assert len(p.parts) == 1 and not p.comparison


def test_kind_of_fact_asked(lex) -> None:  # type: ignore[no-untyped-def]
    def kind(q: str) -> str | None:
        return plan(q, [], lex).parts[0].kind

    assert kind("How big a piece of Pudong's output comes from Jinqiao?") == "percent"
    assert kind("How large is the Jinqiao zone?") == "size"
    assert kind("How many high-tech companies are in the Bay Area zone?") == "count"
    assert kind("In what year was Jinqiao approved?") == "year"
    assert kind("What is the population of Jinshan District?") == "count"


def test_years_asked_by_number_and_relative_to_the_document(lex) -> None:  # type: ignore[no-untyped-def]
    assert plan("How many projects were signed in the Bay Area zone in 2019?", [], lex).parts[0].years == (2019,)
    assert plan("How many projects did the Bay Area zone sign last year?", [], lex).parts[0].relative == (-1,)
    assert facts.sentence_years("21 projects were signed last year.", "2022-08-18") == {2021}
    assert facts.sentence_years("in the first half of this year", "2022-08-18") == {2022}


def test_yes_no_questions_and_either_or_questions(lex) -> None:  # type: ignore[no-untyped-def]
    assert plan("Was Jinqiao approved in 1992?", [], lex).parts[0].polar
    assert not plan("Are there more high-tech or more emerging-industry companies in the Bay Area zone?", [],
                    lex).parts[0].polar  # fmt: skip


def test_a_question_in_another_language_is_recognised(lex) -> None:  # type: ignore[no-untyped-def]
    assert plan("金桥开发区有多大？", [], lex).language == "Chinese"
    assert plan("Quelle est la superficie de la zone de Jinqiao ?", [], lex).language
    assert plan("How large is the Jinqiao zone?", [], lex).language is None


def test_a_pronoun_with_nothing_to_refer_to_asks_which(lex) -> None:  # type: ignore[no-untyped-def]
    assert plan("When was it approved?", [], lex).clarify
    history = [{"role": "user", "content": "Tell me about the Jinqiao zone."}, {"role": "assistant", "content": "..."}]
    followed = plan("When was it approved?", history, lex)
    assert not followed.clarify and followed.follow_up and "jinqiao" in followed.parts[0].names


@pytest.mark.parametrize(
    ("kind", "sentence", "near", "span"),
    [
        ("size", "It covers a total area of 20.48 square kilometers, stretches to the east.", [], "20.48 square kilometers"),
        ("count", "The zone is home to 86 high-tech and 64 emerging-industry companies.", ["emerging"], "64"),
        ("money", "Projects worth 8 billion yuan (US$1.18 billion) were signed.", [], "8 billion yuan (US$1.18 billion)"),
        ("percent", "It has contributed to 25 percent of Pudong's industrial economy.", [], "25 percent"),
        ("year", "It was approved by the State Council in 1990.", [], "1990"),
    ],
)
def test_the_direct_answer_is_the_exact_span(kind, sentence, near, span) -> None:  # type: ignore[no-untyped-def]
    assert facts.span(kind, sentence, near) == span


def test_a_share_or_an_area_is_not_a_count() -> None:
    assert not facts.states("count", "It only covers 2 percent of land and 20.48 square kilometers in 1990.")
    assert facts.states("count", "The park is home to 412 companies.")
    assert not facts.states("count", "3. For enterprises not included in industrial parks, encourage the owners to move.")
