"""Answers to the ways people ask: typos, two-part questions, comparisons, yes/no, time, other
languages, and an unseen document, end to end on a real index."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import cited_sources, quoted
from zonebot import ZoneBot
from zonebot.evidence import Scorer, WordVectors
from zonebot.models import Passage, Sentence

UNSEEN = {
    "lotus-bay.md": """# Lotus Bay Marine Technology Park

Published: 2024-05-20

Lotus Bay Marine Technology Park was founded in 2009 on the northern shore of Lotus Bay.
The park covers 14.2 square kilometers. Its 310 companies have about 23,000 employees.
Its leading industries are marine equipment, offshore wind components and seafood processing.
Last year the park's output value reached 52 billion yuan, up 8.5 percent.
""",
    "crane-valley.md": """# Crane Valley Aerospace Town

Published: 2024-06-02

Crane Valley Aerospace Town was founded in 2016 at the foot of the Crane Mountains.
The town covers 6.8 square kilometers and hosts 95 companies.
Its leading industries are satellite parts, drone assembly and composite materials.
""",
}


@pytest.fixture(scope="module")
def unseen(tmp_path_factory: pytest.TempPathFactory) -> ZoneBot:
    """The seed corpus plus two documents no question set has seen."""
    from tests.conftest import SEED_CORPUS

    base = tmp_path_factory.mktemp("unseen")
    corpus = base / "corpus"
    corpus.mkdir()
    for f in SEED_CORPUS.iterdir():
        (corpus / f.name).write_bytes(f.read_bytes())
    for name, text in UNSEEN.items():
        (corpus / name).write_text(text, encoding="utf-8")
    bot = ZoneBot(corpus_dir=corpus, index_dir=base / "index")
    bot.ingest()
    return bot


def _cited(answer, source: str) -> bool:  # type: ignore[no-untyped-def]
    return source in cited_sources(answer)


def test_the_direct_answer_comes_first_then_the_quote(bot: ZoneBot) -> None:
    answer = bot.ask("How large is the Jinqiao zone?")
    assert answer.text.startswith("20.48 square kilometers [1].")
    # "It covers ..." shows its subject in brackets; the citation keeps the verbatim quote.
    assert "[Jinqiao Economic and Technological Development Zone] covers" in answer.text
    assert answer.citations[0].quote.startswith("It covers")


def test_a_typo_is_corrected_and_said(bot: ZoneBot) -> None:
    answer = bot.ask("How large is the Jinqioa zone?")
    assert not answer.abstained and "20.48" in answer.text
    assert "Read 'Jinqioa' as 'Jinqiao'" in answer.text and answer.reading == ["Read 'Jinqioa' as 'Jinqiao'"]


def test_two_part_question_answers_each_part_with_its_citation(bot: ZoneBot) -> None:
    answer = bot.ask("When was the Jinqiao zone approved, and how large is it?")
    assert not answer.abstained and "1990" in answer.text and "20.48" in answer.text
    assert len(answer.citations) >= 2 and all(quoted(answer, c) for c in answer.citations)


def test_a_part_the_sources_do_not_hold_is_named(bot: ZoneBot) -> None:
    answer = bot.ask("When was the Jinqiao zone approved, and what is its population?")
    assert not answer.abstained and "1990" in answer.text
    assert "The sources don't say: what is its population" in answer.text


@pytest.mark.parametrize(("question", "verdict"), [("Was the Jinqiao zone approved in 1990?", "Yes"),
                                                  ("Was the Jinqiao zone approved in 1995?", "No")])  # fmt: skip
def test_yes_or_no_only_as_a_cited_sentence_states_it(bot: ZoneBot, question: str, verdict: str) -> None:
    answer = bot.ask(question)
    assert answer.text.startswith(f"{verdict}: ") and "1990" in answer.text
    assert answer.citations and "1990" in answer.citations[0].quote


def test_a_year_no_source_covers_is_refused(bot: ZoneBot) -> None:
    answer = bot.ask("How many high-tech companies did the Bay Area zone have in 2018?")
    assert answer.abstained and "86" not in answer.text


def test_this_year_resolves_against_the_article_date(bot: ZoneBot) -> None:
    answer = bot.ask("How much investment was signed in the Bay Area zone in the first half of this year?")
    assert not answer.abstained and "8 billion yuan" in answer.text


def test_a_question_in_another_language_is_told_the_sources_language(bot: ZoneBot) -> None:
    answer = bot.ask("金桥开发区有多大？")
    assert answer.abstained and "please ask in English" in answer.text


def test_a_pronoun_with_nothing_to_refer_to_gets_which_zone(bot: ZoneBot) -> None:
    answer = bot.ask("When was it approved?")
    assert answer.abstained and answer.text.startswith("Which zone do you mean?")
    assert "Jinqiao Economic and Technological Development Zone" in answer.text


def test_an_unseen_document_answers_paraphrase_and_typo(unseen: ZoneBot) -> None:
    answer = unseen.ask("How many workers does Lotus Bay Marine Technology Park have?")
    assert not answer.abstained and "23,000" in answer.text and _cited(answer, "lotus-bay.md")
    typo = unseen.ask("How big is the Lotus Bay Marine Tecnology Park?")
    assert "14.2 square kilometers" in typo.text and "Read 'Tecnology' as 'Technology'" in typo.text


def test_a_comparison_across_documents_cites_both(unseen: ZoneBot) -> None:
    answer = unseen.ask("Which is larger, Lotus Bay Marine Technology Park or Crane Valley Aerospace Town?")
    assert not answer.abstained and "14.2" in answer.text and "6.8" in answer.text
    assert _cited(answer, "lotus-bay.md") and _cited(answer, "crane-valley.md")
    # Each subject's figure with its own citation, then the verdict.
    assert answer.text.splitlines()[-1].startswith("So: Lotus Bay Marine Technology Park (14.2 square kilometers)")


def test_a_figure_of_one_unseen_zone_is_not_given_for_another(unseen: ZoneBot) -> None:
    answer = unseen.ask("What was Crane Valley Aerospace Town's output value last year?")
    assert answer.abstained and "52 billion" not in answer.text


def test_the_scorer_credits_other_words_for_the_same_thing(bot: ZoneBot) -> None:
    """Soft coverage: "workers" is met by "employees" far better than by an unrelated word."""
    scorer: Scorer = bot._refresh()[1]
    words = WordVectors(bot.embedder.embed_query)
    text = "Each site has 5,000 employees. Each site has 5,000 trees."
    p = Passage(id="t", source="t.txt", title="t", ordinal=0, start=0, end=len(text), text=text,
                sentences=[(0, 30), (31, len(text))])  # fmt: skip
    vectors = bot.embedder.embed([p.text[a:b] for a, b in p.sentences])
    sentences = [Sentence(p, i, a, b, 0, vectors[i]) for i, (a, b) in enumerate(p.sentences)]
    from zonebot.question import plan

    part = plan("How many workers does each site have?", [], scorer.lexicon).parts[0]
    ranked = Scorer(bot.embedder.embed, scorer.lexicon, scorer.decision, words).rank(
        part, sentences, bot.embedder.embed_query(part.text))
    assert ranked[0].text.endswith("employees.")
    assert ranked[0].features["key"] > ranked[1].features["key"] + 0.2


def test_no_answerer_reads_the_index() -> None:
    """The question path goes one way: answerers see domain types only."""
    root = Path(__file__).resolve().parent.parent / "src" / "zonebot"
    for path in [*(root / "answerers").glob("*.py"), root / "evidence.py", root / "question.py", root / "facts.py",
                 root / "citations.py", root / "lexicon.py", root / "decision.py"]:  # fmt: skip
        source = path.read_text(encoding="utf-8")
        assert not re.search(r"from \.+(index|store|retrieval|embeddings|lexical) import|import zonebot\.index", source), path


JINQIAO_TURN = [{"role": "user", "content": "What share of Pudong's industrial economy does the Jinqiao zone contribute?"},
                {"role": "assistant", "content": "25 percent of Pudong's industrial economy. [1]"}]  # fmt: skip


def test_a_follow_up_gets_its_own_fact_not_the_last_turns(bot: ZoneBot) -> None:
    """The conversation supplies the subject, never the figure of the turn before."""
    answer = bot.ask("How large is it?", history=JINQIAO_TURN)
    assert not answer.abstained and answer.text.startswith("20.48 square kilometers")


def test_a_question_that_names_its_own_subject_is_not_bound_to_the_conversation(bot: ZoneBot) -> None:
    answer = bot.ask("How many high-tech companies does the Shanghai Bay Area High-tech zone have?",
                     history=JINQIAO_TURN)  # fmt: skip
    # Answered about the zone it names (before, the conversation's Jinqiao was added to it and it was refused).
    assert not answer.abstained
    assert cited_sources(answer) == {"shanghai-bay-area-hightech-zone-2022.txt"}


def test_a_question_pasted_twice_is_answered_once(bot: ZoneBot) -> None:
    once = bot.ask("How large is the Jinqiao zone?")
    twice = bot.ask("How large is the Jinqiao zone? How large is the Jinqiao zone?")
    assert twice.text == once.text


def test_sources_that_disagree_are_both_cited_with_title_and_date(make_bot) -> None:  # type: ignore[no-untyped-def]
    bot = make_bot()
    planted = bot.settings.corpus_dir / "jinqiao-fact-sheet.txt"
    planted.write_text("Jinqiao fact sheet\n\nThe Jinqiao Economic and Technological Development Zone covers a total "
                       "area of 99 square kilometers, according to this fact sheet.\n", encoding="utf-8")  # fmt: skip
    planted.with_name(planted.name + ".meta.json").write_text('{"title": "Jinqiao fact sheet", "date": "2024-01-05"}')
    bot.ingest()
    answer = bot.ask("How large is the Jinqiao zone?")
    assert answer.text.startswith("The sources disagree:")
    assert "20.48" in answer.text and "99 square kilometers" in answer.text and "2024-01-05" in answer.text
    assert cited_sources(answer) == {"jinqiao-development-zone.txt", "jinqiao-fact-sheet.txt"}


def test_who_is_leads_with_the_persons_role(bot: ZoneBot) -> None:
    answer = bot.ask("Who is Peng Xijun?")
    assert answer.text.startswith("Peng Xijun is deputy Party secretary of Shanghai Xinjinshan")
