"""Questions kept to chosen documents, and every question getting its share of the CPU."""

from __future__ import annotations

import json
import threading
import time

import pytest

from tests.conftest import cited_sources
from zonebot import SourcesError, ZoneBot
from zonebot.sharing import FairShare

JINQIAO = "jinqiao-development-zone.txt"
JINSHAN = "jinshan-district-industrial-parks.txt"
BAY = "shanghai-bay-area-hightech-zone-2022.txt"


# -- sources: asking only some documents --------------------------------------------------------
@pytest.mark.parametrize(
    "question",
    [
        "How large is the Jinqiao Economic and Technological Development Zone?",
        "Which industries will Jinshan District concentrate on?",
        "What was the Jinshan Industrial Park renamed?",
        "When was the Jinqiao zone approved, and how large is it?",
    ],
)
@pytest.mark.parametrize("chosen", [[JINQIAO], [JINSHAN], [BAY], [JINSHAN, BAY]])
def test_an_answer_never_cites_a_document_outside_the_choice(bot: ZoneBot, question: str, chosen: list[str]) -> None:
    answer = bot.ask(question, sources=chosen)
    assert cited_sources(answer) <= set(chosen), answer.text
    assert {p.source for p in answer.passages} <= set(chosen)


def test_a_fact_from_an_unchosen_document_is_not_in_the_sources(bot: ZoneBot) -> None:
    question = "How large is the Jinqiao Economic and Technological Development Zone?"
    assert cited_sources(bot.ask(question)) == {JINQIAO}
    kept_out = bot.ask(question, sources=[JINSHAN, BAY])
    assert kept_out.abstained and "20.48" not in kept_out.text
    assert cited_sources(bot.ask(question, sources=[JINQIAO, BAY])) == {JINQIAO}


def test_retrieval_searches_only_the_chosen_documents(bot: ZoneBot) -> None:
    passages = bot.retrieve("industrial parks", k=20, sources=[BAY])
    assert passages and {p.source for p in passages} == {BAY}
    assert {p.source for p in bot.retrieve("industrial parks", k=20)} > {BAY}


@pytest.mark.parametrize("sources", [None, []])
def test_no_choice_means_every_document(bot: ZoneBot, sources) -> None:  # type: ignore[no-untyped-def]
    assert cited_sources(bot.ask("What was the Jinshan Industrial Park renamed?", sources=sources))


@pytest.mark.parametrize(("sources", "said"), [(["missing.txt"], "missing.txt"), ([3], "list of document names"),
                                              ({"source": JINQIAO}, "list of document names")])  # fmt: skip
def test_a_source_that_is_not_indexed_is_refused_by_name(bot: ZoneBot, sources, said: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SourcesError, match=said) as err:
        bot.ask("How large is the Jinqiao zone?", sources=sources)
    if "missing" in said:
        assert JINQIAO in str(err.value)  # the message lists what can be chosen


def test_the_cli_keeps_to_the_sources_given(seed_dirs, capsys) -> None:  # type: ignore[no-untyped-def]
    from zonebot.cli import main

    where = ["--corpus", str(seed_dirs[0]), "--index", str(seed_dirs[1])]
    assert main(["ask", "How large is the Jinqiao zone?", "--source", JINQIAO, "--json", *where]) == 0
    assert {c["source"] for c in json.loads(capsys.readouterr().out)["citations"]} == {JINQIAO}
    assert main(["ask", "How large is the Jinqiao zone?", "--source", "gone.txt", *where]) == 2
    assert "not an indexed document: gone.txt" in capsys.readouterr().err


# -- bounded work per question ------------------------------------------------------------------
@pytest.fixture(scope="module")
def tight_bot(seed_dirs) -> ZoneBot:  # type: ignore[no-untyped-def]
    """A second bot over the session's seed index, answering at most two asks per question."""
    corpus, index = seed_dirs
    return ZoneBot(corpus_dir=corpus, index_dir=index, max_parts=2)


def test_repeated_asks_are_answered_once(tight_bot: ZoneBot) -> None:
    ask = "How large is the Jinqiao zone? "
    answer = tight_bot.ask(ask * 6 + "When was the Jinqiao zone approved?")
    assert "20.48" in answer.text and "1990" in answer.text  # both distinct asks, within the cap of two
    assert answer.text.count("20.48 square kilometers [") == 1
    assert not answer.notes


def test_asks_past_the_cap_are_named_not_answered(tight_bot: ZoneBot) -> None:
    question = ("How large is the Jinqiao zone? When was the Jinqiao zone approved? "
                "What was the Jinshan Industrial Park renamed?")  # fmt: skip
    answer = tight_bot.ask(question)
    assert "20.48" in answer.text and "1990" in answer.text
    assert "Shanghai Bay Area" not in answer.text.split("\n\n")[0]
    assert answer.notes == ["This question asks 3 different things; the first 2 are answered here. "
                            "Ask the others separately."]  # fmt: skip
    assert answer.text.endswith(answer.notes[0])


def test_a_question_out_of_time_is_answered_with_the_asks_done(seed_dirs) -> None:  # type: ignore[no-untyped-def]
    corpus, index = seed_dirs
    hurried = ZoneBot(corpus_dir=corpus, index_dir=index, question_seconds=0.001)
    answer = hurried.ask("How large is the Jinqiao zone? When was the Jinqiao zone approved?")
    assert "20.48" in answer.text and not answer.abstained  # the first ask is always answered
    assert any(n.startswith("Time ran out after 1 of the 2 asks") for n in answer.notes)


# -- the fair share -----------------------------------------------------------------------------
def test_a_short_question_goes_before_long_ones_that_came_first() -> None:
    share, events, lock, stop = FairShare(workers=1), [], threading.Lock(), threading.Event()

    def question(name: str, steps: int) -> None:
        ticket = share.ticket(steps=steps)
        for _ in range(steps):
            if stop.is_set():
                return
            with lock:
                events.append(f"{name} waits")
            with share.turn(ticket):
                with lock:
                    events.append(f"{name} runs")
                time.sleep(0.01)

    longs = [threading.Thread(target=question, args=(f"long{i}", 40)) for i in range(6)]
    for t in longs:
        t.start()
    while sum(e.endswith("runs") for e in events) < 12:  # each long one has had a step or more
        time.sleep(0.01)
    question("short", 1)
    stop.set()
    for t in longs:
        t.join()
    between = events[events.index("short waits") + 1 : events.index("short runs")]
    # First come, first served would run a step of each of the five other long ones first.
    assert sum(e.endswith("runs") for e in between) <= 1, between


def test_of_questions_not_yet_started_the_shortest_goes_first() -> None:
    share, order = FairShare(workers=1), []
    holder = share.ticket()

    def question(name: str, steps: int) -> None:
        with share.turn(share.ticket(steps=steps)):
            order.append(name)

    with share.turn(holder):  # the one slot is busy while they line up
        waiting = [threading.Thread(target=question, args=(f"long{i}", 8)) for i in range(3)]
        waiting.append(threading.Thread(target=question, args=("short", 1)))
        for t in waiting:
            t.start()
            time.sleep(0.02)  # in this order: the short one last
        assert share.waiting == 4
    for t in waiting:
        t.join()
    assert order == ["short", "long0", "long1", "long2"]


def test_with_two_workers_a_question_just_arrived_starts_at_once() -> None:
    share, events, lock, stop = FairShare(workers=2), [], threading.Lock(), threading.Event()

    def question(name: str, steps: int) -> None:
        ticket = share.ticket(steps=steps)
        for _ in range(steps):
            if stop.is_set():
                return
            with lock:
                events.append(f"{name} waits")
            with share.turn(ticket):
                with lock:
                    events.append(f"{name} runs")
                time.sleep(0.1)
                with lock:
                    events.append(f"{name} ends")

    longs = [threading.Thread(target=question, args=(f"long{i}", 20)) for i in range(4)]
    for t in longs:
        t.start()
    while sum(e.endswith("ends") for e in events) < 6:  # the long ones are under way
        time.sleep(0.01)
    question("short", 1)
    stop.set()
    for t in longs:
        t.join()
    between = events[events.index("short waits") + 1 : events.index("short runs")]
    # Under way, the long ones hold one of the two slots: the other is free for the new question.
    assert not [e for e in between if e.startswith("long")], between


def test_no_more_steps_run_at_once_than_workers() -> None:
    share, lock, running, most = FairShare(workers=2), threading.Lock(), [0], [0]

    def question() -> None:
        ticket = share.ticket()
        for _ in range(3):
            with share.turn(ticket):
                with lock:
                    running[0] += 1
                    most[0] = max(most[0], running[0])
                time.sleep(0.01)
                with lock:
                    running[0] -= 1

    threads = [threading.Thread(target=question) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most[0] == 2 and share.busy == 0 and share.waiting == 0
