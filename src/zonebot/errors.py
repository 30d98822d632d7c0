"""zonebot's exception hierarchy: every message says what to do next."""


class ZoneBotError(Exception):
    """Base class of every error zonebot raises on purpose."""


class IndexMissingError(ZoneBotError):
    """There is no index yet: run ``zonebot ingest`` (or ``ZoneBot().ingest()``)."""


class IngestLockedError(ZoneBotError):
    """Another ingest holds the index lock."""


class InvalidQuestionError(ZoneBotError, ValueError):
    """The question is empty or too long."""


class SourcesError(ZoneBotError, ValueError):
    """The documents a question should be kept to are not given as names of indexed documents."""


class LoadError(ZoneBotError):
    """A corpus file could not be read; the message gives the reason."""


class SettingsError(ZoneBotError, ValueError):
    """A setting (``ZONEBOT_*`` variable or keyword argument) has a value zonebot cannot use."""


class CorpusError(ZoneBotError):
    """A file could not be added to or removed from the corpus folder; the message says why."""


class DocumentExistsError(CorpusError):
    """A file of that name is in the corpus already: replace it, or keep both under another name."""

    def __init__(self, source: str) -> None:
        super().__init__(f"{source} is already in the corpus: replace it with the new version, or keep both "
                         "(if_exists='replace' or 'rename')")  # fmt: skip
        self.source = source


class FeedbackRefused(ZoneBotError):
    """A feedback record was not written (a note too long, a record too large, too many at once); the
    message says why."""
