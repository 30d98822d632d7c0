"""Start the zonebot chat: ``python app.py`` (the same as ``zonebot serve``).

Builds the index first when it is missing or stale. Settings come from ZONEBOT_* variables:
ZONEBOT_CORPUS_DIR, ZONEBOT_INDEX_DIR, ZONEBOT_HOST (default 127.0.0.1), ZONEBOT_PORT (7860),
ZONEBOT_AUTH (user:password to require a login), ZONEBOT_LLM, ...
"""

import os
import sys
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))  # works without `pip install -e .` too

from zonebot.errors import ZoneBotError  # noqa: E402
from zonebot.ui import serve  # noqa: E402

if __name__ == "__main__":
    try:
        serve()
    except ZoneBotError as exc:
        sys.exit(f"zonebot: {exc}")
