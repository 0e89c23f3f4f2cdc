"""Score a comprehension answer on the key ideas of its rubric.

The rubric lives in ``grader/config.toml`` (``[rubric.q1]`` .. ``[rubric.q7]``).
An answer's score is a fraction in [0, 1]:

    ideas found / ideas  x 0.5 if shorter than ``min_words``
                         x 0.5 if it is a bare list of keywords

Matching is case- and accent-insensitive. Words copied from the question (any
run of ``COPY_NGRAM`` words or more) do not count towards the length and ideas
found only inside them do not count. ``uncertain`` marks answers an instructor
should read: near the length threshold, very short, a keyword list, copied
question text, hits that sit in an otherwise off-topic answer, or rubric
words dropped into sentences about something else (keyword stuffing,
:func:`anchoring`): such an answer keeps its points but is never silently
full marks.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from grader.answers.markdown import extract_answer, has_answer_markers, remove_placeholder
from grader.spec import ANSWER_IDS

QUESTION_IDS = ANSWER_IDS  # one check each
COPY_NGRAM = 5  # a run of this many words found in the question is "copied"
SHORT_FACTOR = 0.5  # shorter than min_words, but not empty
KEYWORD_LIST_FACTOR = 0.5  # words without sentences
OFF_TOPIC_RATIO = 1 / 3  # fewer on-topic sentences than this: off-topic
OFF_TOPIC_SENTENCES = 100  # sentences read to decide it
# Keyword stuffing: in the sentences that hold a key idea, the share of content
# words that belong to the question's vocabulary (its topic and idea patterns,
# its title and text). Real answers, the corpus and the model answers, stay at
# 0.39 or more; rubric words dropped into unrelated sentences ("Mi perro se
# llama Relu") sit near 0.15-0.2. Below this mean the answer is marked.
ANCHORED_RATIO = 0.3
MIN_CONTENT_LETTERS = 3  # shorter words ("sí", "ya") are neither topic nor filler
# Hint when no key idea is missing (too short, keyword list).
DEFAULT_HINT = "desarrolla cada idea con frases completas."
DEFAULT_HINT_EN = "develop each idea in full sentences."

WORD = re.compile(r"[^\W_]+(?:['\u2019-][^\W_]+)*")
SENTENCE_BREAK = re.compile(r"(?<=[.!?;])\s+|\n+")
SEGMENT_BREAK = re.compile(r"[,;:\n\u2022\u00b7|()]|\s[-*+]\s|(?<=[.!?])\s+|^\s*[-*+]\s")
SPANISH_FUNCTION_WORDS = frozenset(
    """a al ante asi aunque cada como con cual cuando de del desde donde e el
    en entre era es esa ese eso esta estan este esto fue ha han hace hay la
    las le les lo los mas me mi muy ni no nos o para pero por porque que se
    sea segun ser si sin sino sobre son su sus tambien te tiene tienen todo
    todos tras tu u un una uno unos y ya""".split()
)
ENGLISH_FUNCTION_WORDS = frozenset(
    """the of and is are was be to in for it its that this these those with
    which each as on from or not has have by an into than so we our they
    their when because while what how all one there would can will""".split()
)
# Accent-free function words of both languages: prose has plenty, a keyword
# list almost none.
FUNCTION_WORDS = SPANISH_FUNCTION_WORDS | ENGLISH_FUNCTION_WORDS
ENGLISH_CHOICES = ("score", "ask_spanish")


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def normalize(text: str) -> str:
    """Accent-free, case-folded ``text`` with runs of white space as one space."""
    return re.sub(r"\s+", " ", strip_accents(text).casefold()).strip()


def words(text: str) -> list[str]:
    return WORD.findall(normalize(text))


# --- the rubric -------------------------------------------------------------


class RubricError(ValueError):
    """The [rubric] or [exploration] tables of grader/config.toml are invalid."""


@dataclass(frozen=True)
class AnswerSettings:
    """The plain keys of ``[rubric]`` (the questions are its sub-tables)."""

    max_file_kb: int = field(default=64, metadata={"doc": "A larger answer file or sheet is not read: 0 points."})
    time_limit: float = field(default=20.0, metadata={"doc": "Seconds to score one free-text file; a file over it scores 0 alone."})
    provisional: bool = field(
        default=False,
        metadata={
            "doc": "true in a template released without the rubric (python -m grader release without --with-rubric): the ideas have "
            "names but no patterns, and the self-check scores only the form of each answer (length, sentences, copied question, "
            "language), lists the ideas as a checklist and says that the content is graded on submission."
        },
    )
    english: str = field(
        default="score",
        metadata={
            "doc": '"score": English answers are scored with the ideas\' English patterns too; "ask_spanish": they score 0 and are asked for in Spanish.'
        },
    )

    @property
    def max_bytes(self) -> int:
        return self.max_file_kb * 1024

    @classmethod
    def from_raw(cls, raw: Mapping[str, Any]) -> AnswerSettings:
        plain = {k: v for k, v in raw.items() if not isinstance(v, Mapping)}
        unknown = set(plain) - set(cls.__dataclass_fields__)
        if unknown:
            raise RubricError(f"[rubric]: unknown keys {sorted(unknown)}")
        settings = cls(**plain)
        if not isinstance(settings.max_file_kb, int) or settings.max_file_kb < 1:
            raise RubricError("[rubric]: max_file_kb must be a positive integer")
        if not isinstance(settings.time_limit, (int, float)) or settings.time_limit <= 0:
            raise RubricError("[rubric]: time_limit must be a positive number of seconds")
        if not isinstance(settings.provisional, bool):
            raise RubricError("[rubric]: provisional must be true or false")
        if settings.english not in ENGLISH_CHOICES:
            raise RubricError(f"[rubric]: english must be one of {list(ENGLISH_CHOICES)}")
        return settings


@dataclass(frozen=True)
class Idea:
    name: str  # Spanish label shown to the student; must not give the answer
    patterns: tuple[re.Pattern[str], ...]
    name_en: str = ""
    hint: str = ""
    hint_en: str = ""
    patterns_en: tuple[re.Pattern[str], ...] = ()  # the idea in English words

    def matchers(self, english: bool) -> tuple[re.Pattern[str], ...]:
        return self.patterns + self.patterns_en if english else self.patterns

    def label(self, language: str) -> str:
        return (self.name_en or self.name) if language == "en" else self.name


@dataclass(frozen=True)
class QuestionRubric:
    id: str  # "q1"
    number: int
    title: str
    question: str
    min_words: int
    ideas: tuple[Idea, ...]
    topic: tuple[re.Pattern[str], ...] = ()
    provisional: bool = False  # released without patterns: only the form is scored


def _compile(patterns: Any, where: str) -> tuple[re.Pattern[str], ...]:
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        raise RubricError(f"{where}: expected a list of regex strings")
    try:
        return tuple(re.compile(strip_accents(p), re.IGNORECASE) for p in patterns)
    except re.error as error:
        raise RubricError(f"{where}: bad regex: {error}") from error


_QUESTION_KEYS = {"title", "question", "min_words", "topic", "ideas"}
_IDEA_KEYS = {"name", "name_en", "hint", "hint_en", "patterns", "patterns_en"}


def parse_question(question_id: str, raw: Mapping[str, Any], provisional: bool = False) -> QuestionRubric:
    where = f"[rubric.{question_id}]"
    unknown = set(raw) - _QUESTION_KEYS
    if unknown:
        raise RubricError(f"{where}: unknown keys {sorted(unknown)}")
    min_words = raw.get("min_words")
    if not isinstance(min_words, int) or min_words < 1:
        raise RubricError(f"{where}: min_words must be a positive integer")
    ideas_raw = raw.get("ideas")
    if not isinstance(ideas_raw, list) or not ideas_raw:
        raise RubricError(f"{where}: needs at least one [[rubric.{question_id}.ideas]]")
    ideas = []
    for index, idea in enumerate(ideas_raw, start=1):
        idea_where = f"{where} idea {index}"
        unknown = set(idea) - _IDEA_KEYS
        if unknown:
            raise RubricError(f"{idea_where}: unknown keys {sorted(unknown)}")
        if not idea.get("name") or not (idea.get("patterns") or provisional):
            raise RubricError(f"{idea_where}: needs a name and patterns")
        ideas.append(
            Idea(
                name=str(idea["name"]),
                patterns=_compile(idea.get("patterns", []), idea_where),
                name_en=str(idea.get("name_en", "")),
                hint=str(idea.get("hint", "")),
                hint_en=str(idea.get("hint_en", "")),
                patterns_en=_compile(idea.get("patterns_en", []), f"{idea_where} patterns_en"),
            )
        )
    return QuestionRubric(
        id=question_id,
        number=int(question_id.lstrip("q")),
        title=str(raw.get("title", "")),
        question=str(raw.get("question", "")),
        min_words=min_words,
        ideas=tuple(ideas),
        topic=_compile(raw.get("topic", []), f"{where} topic"),
        provisional=provisional,
    )


def load_rubric(config: Any) -> dict[str, QuestionRubric]:
    """The typed rubric of every question, from a ``grader.config.Config``
    (its ``rubric`` dict) or from the raw ``[rubric]`` table itself."""
    raw: Mapping[str, Any] = getattr(config, "rubric", config)
    missing = [q for q in QUESTION_IDS if q not in raw]
    if missing:
        raise RubricError(f"[rubric] lacks {missing}")
    provisional = raw.get("provisional", False) is True
    return {q: parse_question(q, raw[q], provisional) for q in QUESTION_IDS}


# --- analysing an answer ----------------------------------------------------


@dataclass(frozen=True)
class TextAnalysis:
    normalized: str
    own_words: int  # words not copied from the question
    copied_words: int
    copied: tuple[bool, ...]  # per character of ``normalized``
    keyword_list: bool

    def counts(self, pattern: re.Pattern[str]) -> bool:
        """Whether ``pattern`` matches somewhere outside the copied text."""
        return any(not all(self.copied[match.start() : match.end()]) for match in pattern.finditer(self.normalized) if match.end() > match.start())


def analyse(text: str, reference: str = "") -> TextAnalysis:
    """Word counts, copied spans (from ``reference``) and keyword-list check."""
    normalized = normalize(text)
    tokens = list(WORD.finditer(normalized))
    reference_words = words(reference)
    grams = {tuple(reference_words[i : i + COPY_NGRAM]) for i in range(len(reference_words) - COPY_NGRAM + 1)}
    token_copied = [False] * len(tokens)
    values = [t.group() for t in tokens]
    for i in range(len(tokens) - COPY_NGRAM + 1):
        if tuple(values[i : i + COPY_NGRAM]) in grams:
            token_copied[i : i + COPY_NGRAM] = [True] * COPY_NGRAM
    copied = [False] * len(normalized)
    for token, is_copied in zip(tokens, token_copied, strict=True):
        if is_copied:
            copied[token.start() : token.end()] = [True] * (token.end() - token.start())
    own = [v for v, c in zip(values, token_copied, strict=True) if not c]
    return TextAnalysis(
        normalized=normalized,
        own_words=len(own),
        copied_words=sum(token_copied),
        copied=tuple(copied),
        keyword_list=_is_keyword_list(text, own),
    )


def _is_keyword_list(text: str, own: Sequence[str]) -> bool:
    # Numbers are neither prose nor keywords: "784 × 128 + 128 = 100 480" in
    # a sentence must not make it look like a list.
    own = [w for w in own if not w.isdigit()]
    if len(own) < 3:
        return False
    ratio = sum(w in FUNCTION_WORDS for w in own) / len(own)
    # Word counts only: no need to fold accents per segment (WORD is Unicode).
    segments = [n for n in (len(WORD.findall(s)) for s in SEGMENT_BREAK.split(text) if s) if n]
    short = sum(n <= 3 for n in segments)
    fragmented = len(segments) >= 3 and short / len(segments) >= 0.6
    return ratio < 0.15 or (fragmented and ratio < 0.3)


def looks_english(text: str) -> bool:
    """Whether ``text`` reads as English prose rather than Spanish."""
    tokens = words(text)
    english = sum(t in ENGLISH_FUNCTION_WORDS for t in tokens)
    spanish = sum(t in SPANISH_FUNCTION_WORDS for t in tokens)
    return english >= 3 and english > 2 * spanish


def _off_topic(text: str, rubric: QuestionRubric) -> bool:
    patterns = rubric.topic + tuple(p for idea in rubric.ideas for p in idea.matchers(True))
    sentences = [s for s in SENTENCE_BREAK.split(text) if len(WORD.findall(s)) >= 3]
    # An answer has a few sentences; past OFF_TOPIC_SENTENCES the verdict
    # would not change, and each costs a search per pattern.
    sentences = [normalize(s) for s in sentences[:OFF_TOPIC_SENTENCES]]
    if len(sentences) < 3:
        return False
    on_topic = sum(any(p.search(s) for p in patterns) for s in sentences)
    return on_topic / len(sentences) < OFF_TOPIC_RATIO


def anchoring(text: str, rubric: QuestionRubric, english: bool = True) -> float | None:
    """Mean share of question vocabulary among the content words of the
    sentences that hold a key idea (None when no sentence holds one).

    A content word is a word of three letters or more that is no function word
    and no number; it belongs to the question's vocabulary when a topic or idea
    pattern matches over it in its sentence, or it appears in the question's
    title or text. Matching runs on the whole sentence, so an idea written in
    several words ("sums to one") counts every word of it.
    """
    patterns = rubric.topic + tuple(p for idea in rubric.ideas for p in idea.matchers(english))
    ideas = tuple(p for idea in rubric.ideas for p in idea.matchers(english))
    question = set(words(f"{rubric.title} {rubric.question}"))
    shares = []
    for sentence in SENTENCE_BREAK.split(text)[:OFF_TOPIC_SENTENCES]:
        normalized = normalize(sentence)
        if not any(p.search(normalized) for p in ideas):
            continue
        content = [
            t for t in WORD.finditer(normalized) if len(t.group()) >= MIN_CONTENT_LETTERS and not t.group().isdigit() and t.group() not in FUNCTION_WORDS
        ]
        if not content:
            continue
        spans = [(m.start(), m.end()) for p in patterns for m in p.finditer(normalized) if m.end() > m.start()]
        on_topic = sum(1 for t in content if t.group() in question or any(a < t.end() and t.start() < b for a, b in spans))
        shares.append(on_topic / len(content))
    return sum(shares) / len(shares) if shares else None


def is_stuffed(text: str, rubric: QuestionRubric, english: bool = True) -> bool:
    """Rubric words in sentences that are not about the question (see :func:`anchoring`)."""
    share = anchoring(text, rubric, english)
    return share is not None and share < ANCHORED_RATIO


# --- scoring ----------------------------------------------------------------


@dataclass
class AnswerScore:
    fraction: float  # in [0, 1]; points = fraction x [points] qN
    status: str  # "missing_file", "untouched", "empty" or "scored"
    found: list[str]  # names of the key ideas found (Spanish labels)
    missing: list[str]  # names of the key ideas not found
    uncertain: bool  # an instructor should read this answer
    words: int  # the student's own words (copied question text excluded)
    message_key: str
    message_params: dict[str, Any]
    reasons: list[str] = field(default_factory=list)  # why uncertain
    copied_words: int = 0


def _join(names: Sequence[str], none: str) -> str:
    return ", ".join(names) if names else none


def first_words(text: str, count: int = 8) -> str:
    """The first ``count`` words of ``text``, to show a student which text is meant."""
    shown = text.split()
    return " ".join(shown[:count]) + (" …" if len(shown) > count else "")


def percent(fraction: float) -> int | float:
    """``fraction`` as a percentage for a message: 50, 12.5, 33.3."""
    value = round(fraction * 100, 1)
    return int(value) if value.is_integer() else value


def _base_params(question_id: str, rubric: QuestionRubric) -> dict[str, Any]:
    return {
        "number": rubric.number,
        "question_id": question_id,
        "file": f"assignment/answers/{question_id}.md",
        "min_words": rubric.min_words,
        "total": len(rubric.ideas),
        "percent": 0,
    }


def unscored(question_id: str, rubric: QuestionRubric, status: str, **extra: Any) -> AnswerScore:
    """A zero score that looked at no idea: no file, untouched, too large..."""
    params = _base_params(question_id, rubric) | extra
    names = [i.name for i in rubric.ideas]
    return AnswerScore(0.0, status, [], names, False, 0, f"answers.{status}", params)


def score_answer(
    question_id: str,
    text: str | None,
    rubric: QuestionRubric,
    settings: AnswerSettings | None = None,
) -> AnswerScore:
    """Score one answer. ``text`` is what :func:`read_answer` returns (None:
    no file; "": untouched); the raw file text is accepted too."""
    settings = settings or AnswerSettings()
    ideas = rubric.ideas
    params = _base_params(question_id, rubric)

    if text is None:
        return unscored(question_id, rubric, "missing_file")
    if has_answer_markers(text):
        answer = extract_answer(text)
        text = answer.text
        if not text and answer.outside:
            # Written, but below the end marker: say where, and what to move.
            return unscored(question_id, rubric, "outside_markers", start=first_words(answer.outside))
        if not text and not answer.placeholder:
            return unscored(question_id, rubric, "emptied")
    else:
        text = remove_placeholder(text)
    if not text:
        return unscored(question_id, rubric, "untouched")
    analysis = analyse(text, reference=f"{rubric.title}\n{rubric.question}")
    if analysis.own_words + analysis.copied_words == 0:
        return unscored(question_id, rubric, "empty")
    if settings.english == "ask_spanish" and looks_english(text):
        return unscored(question_id, rubric, "english", words=analysis.own_words)

    if rubric.provisional:
        return _provisional(question_id, rubric, analysis, params)
    accept_english = settings.english == "score"
    hits = [idea for idea in ideas if any(analysis.counts(p) for p in idea.matchers(accept_english))]
    lacking = [idea for idea in ideas if idea not in hits]
    own = analysis.own_words
    short = own < rubric.min_words
    fraction = len(hits) / len(ideas)
    if short:
        fraction *= SHORT_FACTOR
    if analysis.keyword_list:
        fraction *= KEYWORD_LIST_FACTOR

    reasons = []
    margin = max(5, round(0.15 * rubric.min_words))
    if abs(own - rubric.min_words) <= margin:
        reasons.append("near_threshold")
    if 0 < own < rubric.min_words / 2:
        reasons.append("very_short")
    if analysis.keyword_list:
        reasons.append("keyword_list")
    if analysis.copied_words:
        reasons.append("copied_question")
    if hits and _off_topic(text, rubric):
        reasons.append("off_topic")
    if hits and not analysis.keyword_list and is_stuffed(text, rubric, accept_english):
        reasons.append("unanchored")

    if analysis.copied_words > own:
        key = "answers.copied_question"
    elif not hits:
        key = "answers.none"
    elif analysis.keyword_list and short:
        key = "answers.keyword_list_short"
    elif analysis.keyword_list:
        key = "answers.keyword_list"
    elif short:
        key = "answers.short"
    elif lacking:
        key = "answers.partial"
    else:
        key = "answers.complete"
    if "unanchored" in reasons and key in ("answers.partial", "answers.complete"):
        key = "answers.unanchored"  # said to the student too: never silent full marks
    first = lacking[0] if lacking else None
    params.update(
        words=own,
        percent=percent(fraction),
        copied_words=analysis.copied_words,
        found_count=len(hits),
        found=_join([i.name for i in hits], "ninguna"),
        found_en=_join([i.label("en") for i in hits], "none"),
        missing=_join([i.name for i in lacking], "ninguna"),
        missing_en=_join([i.label("en") for i in lacking], "none"),
        hint=first.hint if first and first.hint else DEFAULT_HINT,
        hint_en=first.hint_en if first and first.hint_en else DEFAULT_HINT_EN,
    )
    return AnswerScore(
        fraction=fraction,
        status="scored",
        found=[i.name for i in hits],
        missing=[i.name for i in lacking],
        uncertain=bool(reasons),
        words=own,
        message_key=key,
        message_params=params,
        reasons=reasons,
        copied_words=analysis.copied_words,
    )


def _provisional(question_id: str, rubric: QuestionRubric, analysis: TextAnalysis, params: dict[str, Any]) -> AnswerScore:
    """The self-check of a template released without the rubric: the form of
    the answer only (its own words, sentences rather than a word list), with
    the key ideas named as a checklist; the content is graded on submission."""
    own = analysis.own_words
    short = own < rubric.min_words
    fraction = (SHORT_FACTOR if short else 1.0) * (KEYWORD_LIST_FACTOR if analysis.keyword_list else 1.0)
    key = "answers.provisional_keyword_list" if analysis.keyword_list else "answers.provisional_short" if short else "answers.provisional"
    params.update(
        words=own,
        percent=percent(fraction),
        copied_words=analysis.copied_words,
        checklist=_join([i.name for i in rubric.ideas], "-"),
        checklist_en=_join([i.label("en") for i in rubric.ideas], "-"),
    )
    reasons = ["provisional"]
    return AnswerScore(fraction, "scored", [], [i.name for i in rubric.ideas], False, own, key, params, reasons, analysis.copied_words)
