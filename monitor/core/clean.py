"""Raw article in, clean article (or a rejection with a reason) out.

Steps: size and garbage checks; HTML through trafilatura (plain text is used as is); lines
stripped of control characters; boilerplate removed line by line
(``monitor.core.boilerplate``); title taken from the raw record, else from the page, else
from the first headline-like line; paragraphs split into sentences in their original
spelling, each with its normalised twin for matching.

The work is split in two so that the stage can count outlet template lines between them
(``prepare_article`` gives ``PreparedArticle.template_keys``; the store returns the outlet's
template; ``finish_article`` applies it). ``clean_article`` runs both.

trafilatura options: ``favor_precision=True`` because news pages wrap a short article in far
more text (menus, related lists, comment teasers) than the article itself, and a missed
marginal paragraph costs less downstream than a related headline that pulls an article into
the wrong story; ``include_comments=False`` and ``include_tables=False`` (reader comments and
tables of prices/scores are not the report); ``deduplicate=False`` (its cache is global
across calls and would drop lines of the *next* article); ``fast=True`` (no fallback
extractors: several times faster, and our own line rules run afterwards anyway).

>>> from monitor.core.records import RawArticle
>>> raw = RawArticle(id="a", outlet="x", text="Open chat\\nبوتين يصل إلى بيونغ يانغ\\n"
...                  "وصل الرئيس الروسي إلى بيونغ يانغ. والتقى الزعيم الكوري الشمالي.")
>>> article = clean_article(raw)
>>> article.title, article.sentences
('بوتين يصل إلى بيونغ يانغ', ['وصل الرئيس الروسي إلى بيونغ يانغ.', 'والتقى الزعيم الكوري الشمالي.'])
>>> clean_article(RawArticle(id="b", outlet="x", text="   ")).reason
'empty'
"""

from __future__ import annotations

import html as html_lib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

import xxhash

from monitor.core.arabic import CONTROL_CHARS, char_counts, detect_language, normalize
from monitor.core.boilerplate import TemplateLines, line_reasons, split_embeds, template_keys
from monitor.core.charset import MojibakeRepair, find_mojibake
from monitor.core.records import CleanArticle, RawArticle, Rejection, Removal
from monitor.core.sentences import split_sentences
from monitor.settings import CleanSettings

__all__ = [
    "PreparedArticle",
    "clean_article",
    "extract_html",
    "finish_article",
    "finish_articles",
    "prepare_article",
    "prepare_articles",
    "unwrap_lines",
]

STAGE = "clean"
_TITLE_MAX_WORDS = 30
_GARBAGE_SAMPLE = 3_000
_GARBAGE_MAX_BAD_SHARE = 0.1
_GARBAGE_MIN_LETTER_SHARE = 0.3
_BAD_CHARS = CONTROL_CHARS
_HTML_TITLES = (
    re.compile(r"<meta[^>]+property=[\"']og:title[\"'][^>]+content=[\"']([^\"']+)", re.IGNORECASE),
    re.compile(r"<h1[^>]*>(.*?)</h1>", re.IGNORECASE | re.DOTALL),
    re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL),
)
_SITE_SUFFIX = re.compile(r"\s+[|\-–—]\s+[^|\-–—]{1,40}$")
_TAGS = re.compile(r"<[^>]+>")
_FRAGMENT_MAX_CHARS = 100_000
_INVISIBLE = re.compile(r"<(script|style|noscript)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_LINE_BREAKING_TAG = re.compile(
    r"<(br|/p|/div|/li|/h[1-6]|/tr|/blockquote|p|div|li|h[1-6])\b[^>]*>", re.IGNORECASE
)
_SENTENCE_END = re.compile(r"[.!?؟]\s*$")

_DEFAULT_SETTINGS = CleanSettings.model_validate({})
_MOJIBAKE_SAMPLE = 4000
"""Characters of the body looked at for mojibake (it fills a misread text throughout)."""

logging.getLogger("trafilatura").setLevel(logging.CRITICAL)


@dataclass(frozen=True, slots=True)
class PreparedArticle:
    """An article's text as lines, before boilerplate removal."""

    raw: RawArticle
    title: str
    lines: tuple[str, ...]
    normalized: tuple[str, ...]
    sentences: tuple[tuple[tuple[str, str], ...], ...]
    """Per line: its sentences (original, normalised), split and normalised once, here."""
    removed: tuple[Removal, ...] = ()
    """Removals made while splitting lines (embedded tweet signatures)."""
    charset_repair: MojibakeRepair | None = None
    """How the article's text was decoded again, when it came as mojibake."""

    @property
    def template_keys(self) -> list[str]:
        """Keys of this article's short lines, to count for the outlet's template."""
        return template_keys(self.normalized)


def _reject(raw: RawArticle, reason: str, detail: str = "") -> Rejection:
    return Rejection(
        id=raw.id,
        outlet=raw.outlet,
        stage=STAGE,
        reason=reason,
        detail=detail,
        url=raw.url,
        published=raw.published,
        trace=dict(raw.trace),
    )


def extract_html(page: str) -> tuple[str, str]:
    """(title, main text) of an HTML page or fragment; empty strings when there is no text.

    Feed summaries are fragments (``text <b>bold</b><br>more``) in which trafilatura finds no
    main content block; their text is then taken by dropping the tags, keeping line breaks.
    """
    try:
        text = _extract(page)
    except Exception:  # lxml and trafilatura raise many kinds on broken markup
        text = None
    if not text and len(page) <= _FRAGMENT_MAX_CHARS and "<body" not in page.lower():
        text = _fragment_text(page)
    return _page_title(page), text or ""


def _fragment_text(fragment: str) -> str:
    text = _INVISIBLE.sub(" ", fragment)
    text = _LINE_BREAKING_TAG.sub("\n", text)
    return html_lib.unescape(_TAGS.sub(" ", text))


def _extract(page: str) -> str | None:
    import trafilatura  # imported lazily: a heavy import the text path never needs

    return trafilatura.extract(
        page,
        fast=True,
        favor_precision=True,
        include_comments=False,
        include_tables=False,
        deduplicate=False,
        with_metadata=False,
    )


def _page_title(page: str) -> str:
    """The page's headline: og:title, else the first h1, else <title> without a site suffix."""
    head = page[:200_000]
    for rank, pattern in enumerate(_HTML_TITLES):
        match = pattern.search(head)
        if match:
            title = " ".join(html_lib.unescape(_TAGS.sub(" ", match.group(1))).split())
            if rank == len(_HTML_TITLES) - 1:
                title = _SITE_SUFFIX.sub("", title)
            if title:
                return title
    return ""


def _utf8_size_over(text: str, limit: int) -> bool:
    # A character is 1 to 4 bytes: only the uncertain middle needs the encoding.
    if len(text) > limit:
        return True
    if 4 * len(text) <= limit:
        return False
    return len(text.encode("utf-8", errors="replace")) > limit


def _garbage_check(text: str) -> tuple[bool, bool]:
    """(whether ``text`` is garbage, whether it may hold ``_BAD_CHARS``): the counts of the
    garbage check say the second for a text no longer than its sample (most articles), which
    then needs no substitution pass (a regex scan of every character)."""
    sample = text[:_GARBAGE_SAMPLE]
    letters, _, spaces, bad = char_counts(sample)  # one table pass, not three regex passes
    may_hold_bad = bool(bad) or len(sample) < len(text)
    visible = len(sample) - spaces
    if not visible:
        return False, may_hold_bad
    garbage = (
        bad / visible > _GARBAGE_MAX_BAD_SHARE or letters / visible < _GARBAGE_MIN_LETTER_SHARE
    )
    return garbage, may_hold_bad


def prepare_article(
    raw: RawArticle, settings: CleanSettings | None = None
) -> PreparedArticle | Rejection:
    """Checks and text extraction: the article as lines, or why it cannot be used."""
    lined = _lines_of(raw, settings)
    return lined if isinstance(lined, Rejection) else _prepared(*lined)


def prepare_articles(
    raws: list[RawArticle], settings: CleanSettings | None = None
) -> list[PreparedArticle | Rejection]:
    """``prepare_article`` of each of ``raws``, each step for all of them before the next
    (checks and lines, then sentences and their normalised forms): a step's tables and
    patterns stay in the cache from one article to the next."""
    lined = [_lines_of(raw, settings) for raw in raws]
    return [item if isinstance(item, Rejection) else _prepared(*item) for item in lined]


_Lines = tuple[RawArticle, str, list[str], list[Removal], MojibakeRepair | None]
"""An article checked and split into lines: (raw article, title, lines, removals, repair)."""


def _lines_of(raw: RawArticle, settings: CleanSettings | None = None) -> _Lines | Rejection:
    """The checks and lines of ``prepare_article`` (``_prepared`` does the rest)."""
    settings = settings or _DEFAULT_SETTINGS
    # Arabic misread as Latin upstream (a mis-declared charset) is decoded again first: as
    # mojibake it would be taken for an undetermined language, or worse.
    body_sample = (raw.text or raw.html or "")[:_MOJIBAKE_SAMPLE]
    charset_repair = find_mojibake(f"{raw.title}\n{body_sample}")
    if charset_repair is not None:
        raw = raw.model_copy(
            update={
                "title": charset_repair.apply(raw.title),
                "text": charset_repair.apply(raw.text),
                "html": charset_repair.apply(raw.html) if raw.html else raw.html,
            }
        )
    title = " ".join(_BAD_CHARS.sub(" ", raw.title or "").split())
    text = raw.text or ""
    if raw.html:
        if _utf8_size_over(raw.html, settings.max_html_bytes):
            return _reject(raw, "too_large", f"html over {settings.max_html_bytes} bytes")
        page_title, extracted = extract_html(raw.html)
        title = title or page_title
        if extracted.strip():
            text = extracted
    if len(title) + len(text) > settings.max_text_chars:
        # Checked before any work on the text: its cost grows with the length.
        return _reject(raw, "too_large", f"text over {settings.max_text_chars} characters")
    if not text.strip():
        return _reject(raw, "empty", "no text")
    garbage, may_hold_bad = _garbage_check(text)
    if garbage:
        return _reject(raw, "garbage", "mostly control or replacement characters, few letters")
    if may_hold_bad:
        text = _BAD_CHARS.sub(" ", text)
    lines, removed = split_embeds(unwrap_lines(text.splitlines()))
    if not lines:
        return _reject(raw, "empty", "no text")
    return raw, title, lines, removed, charset_repair


def _prepared(
    raw: RawArticle,
    title: str,
    lines: list[str],
    removed: list[Removal],
    charset_repair: MojibakeRepair | None,
) -> PreparedArticle:
    """An article's lines split into sentences, each normalised (``prepare_article``)."""
    normalized: list[str] = []
    sentences: list[tuple[tuple[str, str], ...]] = []
    for line in lines:
        # Normalising sentence by sentence and joining gives the line's normalised form too,
        # so each text is normalised once (the hot path of the stage).
        pairs = tuple(
            (sentence, folded)
            for sentence in split_sentences(line)
            if (folded := normalize(sentence))
        )
        sentences.append(pairs)
        normalized.append(" ".join(folded for _, folded in pairs) if pairs else normalize(line))
    return PreparedArticle(
        raw=raw,
        title=title,
        lines=tuple(lines),
        normalized=tuple(normalized),
        sentences=tuple(sentences),
        removed=tuple(removed),
        charset_repair=charset_repair,
    )


_WRAPPED_END = re.compile(r"[.!?؟:…\"'»”)]\s*$")
"""A line ending so ends a sentence or a quote; a line ending otherwise may run on."""


_RAW_RUNS_ON = (
    "على في من إلى الى عن أن ان إن بين مع حتى ثم التي الذي الذين عبر لدى نحو منذ خلال ضد عند و"
)
_RUNS_ON = frozenset(_RAW_RUNS_ON.split())
_RUN_ON_MIN_WORDS = 6
"""Words no sentence ends with (prepositions, conjunctions, relatives): a line ending with one
runs on to the next."""


def _runs_on(words: int, last: str) -> bool:
    """Whether a line of ``words`` words ending with ``last`` runs on to the next."""
    # A short line is a byline or a heading: «مروة على» is a name (Ali), not a preposition.
    return words >= _RUN_ON_MIN_WORDS and last in _RUNS_ON


def unwrap_lines(raw_lines: list[str]) -> list[str]:
    """Lines with inner whitespace collapsed, empty ones dropped, and hard-wrapped ones joined.

    Some outlets wrap their text at a fixed width and indent every continuation line; a
    sentence then spans lines, and read line by line its count ("بلغ" / "5 حالات") or its
    actor ("انتقلت" / "النيابة العامة") would fall apart. An indented line joins the line
    before it unless that one ends a sentence, and so does any line after one that ends with
    a word no sentence ends with (على, في, التي, ...).

    >>> unwrap_lines(["السويس - مراسل", "تجرد", "    عامل من مشاعر", "    الرحمة.", "  وقال."])
    ['السويس - مراسل', 'تجرد عامل من مشاعر الرحمة.', 'وقال.']
    """
    lines: list[str] = []
    # The last line's words, counted as they come, and its last word: it is not split again
    # for each line after it.
    count, last = 0, ""
    for raw in raw_lines:
        words = raw.split()
        if not words:
            continue
        line = " ".join(words)
        if (
            lines
            and (raw[:1].isspace() or _runs_on(count, last))
            and not _WRAPPED_END.search(lines[-1])
        ):
            lines[-1] = f"{lines[-1]} {line}"
            count += len(words)
        else:
            lines.append(line)
            count = len(words)
        last = words[-1]
    return lines


def _is_title_like(line: str) -> bool:
    return len(line.split()) <= _TITLE_MAX_WORDS and not _SENTENCE_END.search(line)


def finish_article(
    prepared: PreparedArticle,
    templates: TemplateLines | None = None,
    settings: CleanSettings | None = None,
) -> CleanArticle | Rejection:
    """Boilerplate removal, title, sentences and normalised forms."""
    return _finished(prepared, _line_verdicts(prepared, templates), settings)


def finish_articles(
    prepared: list[PreparedArticle],
    templates: Sequence[TemplateLines | None],
    settings: CleanSettings | None = None,
) -> list[CleanArticle | Rejection]:
    """``finish_article`` of each of ``prepared`` with its outlet's ``templates``, each step
    for all of them before the next (the boilerplate rules, then the rest)."""
    verdicts = [
        _line_verdicts(article, lines) for article, lines in zip(prepared, templates, strict=True)
    ]
    return [
        _finished(article, reasons, settings)
        for article, reasons in zip(prepared, verdicts, strict=True)
    ]


def _line_verdicts(prepared: PreparedArticle, templates: TemplateLines | None) -> list[str | None]:
    """Why each line of ``prepared`` is boilerplate (``None``: it is kept)."""
    return list(
        line_reasons(prepared.lines, prepared.normalized, templates, has_title=bool(prepared.title))
    )


def _finished(
    prepared: PreparedArticle, reasons: list[str | None], settings: CleanSettings | None
) -> CleanArticle | Rejection:
    """``finish_article`` given its lines' ``_line_verdicts``."""
    settings = settings or _DEFAULT_SETTINGS
    raw = prepared.raw
    removed = list(prepared.removed)
    kept_indices: list[int] = []
    for index, reason in enumerate(reasons):
        if reason is None:
            kept_indices.append(index)
        else:
            removed.append(Removal(text=prepared.lines[index], reason=reason))
    kept = [prepared.lines[index] for index in kept_indices]
    title = prepared.title
    if not title and kept and _is_title_like(kept[0]):
        title = kept[0]
    match_title = normalize(title)
    if match_title:
        body: list[int] = []
        for index in kept_indices:
            if prepared.normalized[index] == match_title:
                removed.append(Removal(text=prepared.lines[index], reason="title"))
            else:
                body.append(index)
        kept_indices = body
        kept = [prepared.lines[index] for index in kept_indices]
    if not kept:
        return _reject(raw, "empty", "nothing left after boilerplate removal")
    if sum(len(line) for line in kept) < settings.min_chars:
        return _reject(raw, "too_short", f"under {settings.min_chars} characters of text")
    sentences: list[str] = []
    match_sentences: list[str] = []
    for index in kept_indices:
        for sentence, folded in prepared.sentences[index]:
            sentences.append(sentence)
            match_sentences.append(folded)
    match_text = " ".join(match_sentences)
    language = detect_language(f"{title}\n{' '.join(kept)}")
    if language == "und" and raw.language:
        declared = raw.language.split("-")[0].lower()
        # Never Arabic on the feed's word alone: text the detector cannot place in an Arabic
        # feed is mojibake or foreign, and as "ar" it became a gibberish alert.
        if declared != "ar":
            language = declared
    return CleanArticle(
        id=raw.id,
        outlet=raw.outlet,
        url=raw.url,
        guid=raw.guid,
        feed=raw.feed,
        published=raw.published,
        fetched=raw.fetched,
        title=title,
        paragraphs=kept,
        sentences=sentences,
        match_title=match_title,
        match_sentences=match_sentences,
        match_text=match_text,
        language=language,
        content_hash=xxhash.xxh64_hexdigest(match_text.encode("utf-8")),
        removed=removed,
        trace=dict(raw.trace),
    )


def clean_article(
    raw: RawArticle,
    *,
    templates: TemplateLines | None = None,
    settings: CleanSettings | None = None,
) -> CleanArticle | Rejection:
    """Clean one raw article; never raises on any text (returns a ``Rejection`` instead)."""
    prepared = prepare_article(raw, settings)
    if isinstance(prepared, Rejection):
        return prepared
    return finish_article(prepared, templates, settings)
