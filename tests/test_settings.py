"""Settings: typed, validated once, a bad one named with what it must be; every one listed in --help."""

from __future__ import annotations

from pathlib import Path

import pytest

from zonebot import Settings, SettingsError, ZoneBot
from zonebot.cli import main


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("ZONEBOT_TOP_K", "many", "ZONEBOT_TOP_K='many': Input should be a valid integer"),
        ("ZONEBOT_RETRIEVAL", "fuzzy", "ZONEBOT_RETRIEVAL='fuzzy': Input should be 'hybrid', 'dense' or 'bm25'"),
        ("ZONEBOT_PASSAGE_TOKENS", "400", "ZONEBOT_PASSAGE_TOKENS='400': Input should be less than or equal to 254"),
        ("ZONEBOT_PORT", "0", "ZONEBOT_PORT='0': Input should be greater than or equal to 1"),
    ],
)
def test_a_bad_environment_variable_is_named_by_the_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path, variable: str, value: str,
    says: str,
) -> None:  # fmt: skip
    monkeypatch.setenv(variable, value)
    assert main(["ask", "How large is the Jinqiao zone?", "--corpus", str(tmp_path), "--index", str(tmp_path)]) == 2
    assert says in capsys.readouterr().err


def test_keyword_settings_override_the_environment_and_are_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZONEBOT_TOP_K", "3")
    assert ZoneBot("corpus", "index").settings.top_k == 3
    assert ZoneBot("corpus", "index", top_k=9).settings.top_k == 9
    assert ZoneBot("corpus", "index", settings=Settings(top_k=5)).settings.top_k == 5
    with pytest.raises(SettingsError, match="top_k=0: Input should be greater than or equal to 1"):
        ZoneBot("corpus", "index", top_k=0)
    with pytest.raises(SettingsError, match="unknown setting 'topk'"):
        ZoneBot("corpus", "index", topk=4)


def test_help_lists_every_setting(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for name in Settings.model_fields:
        assert f"ZONEBOT_{name.upper()}" in out


def test_a_bad_retrieval_mode_is_a_zonebot_error(bot) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SettingsError, match="retrieval mode .* must be one of hybrid, dense, bm25, not 'fuzzy'"):
        bot.ask("How large is the Jinqiao zone?", retrieval="fuzzy")
