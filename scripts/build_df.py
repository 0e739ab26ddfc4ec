"""Build the bundled document-frequency table (``monitor/data/df.json``) from a background
corpus that is not the news the monitor is scored on.

The background is wordfreq's Arabic list (Wikipedia, news, web text, subtitles; a well-kept
package, needed only to build the table): each word's frequency ``f`` becomes the share of
documents of ``ARTICLE_WORDS`` words that hold it, ``1 - exp(-f * ARTICLE_WORDS)``, counted
over ``DOCUMENTS`` nominal documents, and words are normalised the way the monitor
normalises its terms (forms that meet are added up).

    pip install wordfreq && python scripts/build_df.py monitor/data/df.json
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

from wordfreq import get_frequency_dict

from monitor.core.arabic import normalize, tokens

DOCUMENTS = 10_000
"""Nominal documents: the IDF of an unseen term is ``log(DOCUMENTS + 1)``, about 9.2, the
weight of a word rarer than one article in ten thousand."""
ARTICLE_WORDS = 300
"""Words of a typical news article."""
MIN_DOCUMENTS = 2


def build(documents: int = DOCUMENTS, article_words: int = ARTICLE_WORDS) -> dict[str, object]:
    frequencies: dict[str, float] = {}
    for word, frequency in get_frequency_dict("ar", "large").items():
        parts = tokens(normalize(word))
        if len(parts) == 1 and not parts[0][0].isdigit():
            frequencies[parts[0]] = frequencies.get(parts[0], 0.0) + frequency
    df = {
        word: count
        for word, frequency in sorted(frequencies.items(), key=lambda item: -item[1])
        if (count := round(documents * -math.expm1(-frequency * article_words))) >= MIN_DOCUMENTS
    }
    return {
        "documents": documents,
        "source": f"wordfreq 'ar' large list (background corpus, not the scored news): "
        f"share of {article_words}-word documents holding each normalised word, "
        f"over {documents} documents; built by scripts/build_df.py",
        "df": df,
    }


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__)
        return 2
    table = build()
    Path(argv[0]).write_text(
        json.dumps(table, ensure_ascii=False, separators=(",", ":")), encoding="utf-8"
    )
    print(f"{len(table['df'])} terms -> {argv[0]}")  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
