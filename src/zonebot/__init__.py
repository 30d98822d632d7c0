"""zonebot: cited answers about Shanghai's industrial zones from a corpus of documents."""

from .bot import ZoneBot
from .config import Settings
from .errors import (
    CorpusError,
    IndexMissingError,
    IngestLockedError,
    InvalidQuestionError,
    LoadError,
    SettingsError,
    SourcesError,
    ZoneBotError,
)
from .langchain import ZoneBotRetriever
from .models import Answer, Citation, Document, IngestReport, Passage, SkippedFile

__all__ = [
    "Answer", "Citation", "CorpusError", "Document", "IndexMissingError", "IngestLockedError", "IngestReport",
    "InvalidQuestionError", "LoadError", "Passage", "Settings", "SettingsError", "SkippedFile", "SourcesError", "ZoneBot",
    "ZoneBotError", "ZoneBotRetriever",
]  # fmt: skip
__version__ = "0.1.0"
