"""score.json: the grade as the contract fixes it (plus flags and review).

Each check keeps the catalogue key and the parameters its message was
rendered from, so a tool can re-render it in another language
(``i18n.render(lang, message_key, **message_params)``).
"""

from __future__ import annotations

import json
from typing import Any

from grader.results import GradingResult


def to_score_json(result: GradingResult) -> dict[str, Any]:
    return result.to_dict()


def dumps(result: GradingResult) -> str:
    return json.dumps(to_score_json(result), ensure_ascii=False, indent=2) + "\n"
