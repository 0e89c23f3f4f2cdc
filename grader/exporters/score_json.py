"""score.json: the grade as the contract fixes it (plus flags and review)."""

from __future__ import annotations

import json
from typing import Any

from grader.results import GradingResult

CHECK_FIELDS = ("id", "title", "score", "max_score", "passed", "message")


def to_score_json(result: GradingResult) -> dict[str, Any]:
    data = result.to_dict()
    data["checks"] = [{k: c[k] for k in CHECK_FIELDS} | {"message_key": c["message_key"]} for c in data["checks"]]
    return data


def dumps(result: GradingResult) -> str:
    return json.dumps(to_score_json(result), ensure_ascii=False, indent=2) + "\n"
