from __future__ import annotations

import math
import pickle
from itertools import chain

import pytest

from monitor.core.arabic import normalize, tokens
from monitor.core.stories import (
    HEADLINE_COUNTS,
    StoryState,
    absorb_story,
    analyse,
    analyse_sentence,
    article_features,
    decay,
    index_keys,
    lookup_keys,
    merge_article,
    new_story_state,
    similarity,
)

VISIT = (
    "بوتين يصل إلى بيونغ يانغ",
    ["وصل الرئيس الروسي فلاديمير بوتين إلى بيونغ يانغ في زيارة رسمية يلتقي خلالها كيم جونغ أون"],
)
VISIT_AGAIN = (
    "الزعيم الكوري الشمالي يستقبل بوتين في مطار بيونج يانج",
    ["استقبل كيم جونج اون الرئيس بوتين في مطار بيونج يانج صباح الأربعاء"],
)
FOOTBALL = (
    "الأهلي يفوز على الزمالك",
    ["فاز النادي الأهلي على الزمالك بهدفين في نهائي كأس مصر على استاد القاهرة"],
)


def features(item: tuple[str, list[str]]):  # type: ignore[no-untyped-def]
    return article_features(normalize(item[0]), [normalize(s) for s in item[1]])


def story_of(item: tuple[str, list[str]], now: float = 0.0) -> StoryState:
    return new_story_state("s", item[0], features(item), now=now, sentences=[])


def test_same_event_scores_above_unrelated() -> None:
    story = story_of(VISIT)
    same = similarity(features(VISIT_AGAIN), story)
    other = similarity(features(FOOTBALL), story)
    assert same.score >= 0.3 > other.score
    assert "PER:فلاديمير بوتين" in same.shared_entities


def test_decay_cools_idle_stories_but_never_below_the_floor() -> None:
    story = story_of(VISIT)
    fresh = similarity(features(VISIT_AGAIN), story)
    idle = similarity(
        features(VISIT_AGAIN), story, idle_hours=96, half_life_hours=24, decay_floor=0.5
    )
    assert idle.raw == fresh.raw
    assert idle.score == fresh.score * decay(96, 24, 0.5) < fresh.score
    assert decay(10_000, 24, 0.5) >= 0.5


def test_no_decay_within_the_grace_period() -> None:
    # Crawls come in batches hours apart: a story idle for a day has not cooled.
    from monitor.core.stories import DECAY_GRACE_HOURS

    assert decay(DECAY_GRACE_HOURS, 24, 0.5) == 1.0
    assert decay(DECAY_GRACE_HOURS + 24, 24, 0.5) == 0.75


def test_merge_keeps_state_bounded_and_counts_articles() -> None:
    story = story_of(VISIT)
    for _ in range(50):
        merge_article(story, features(VISIT_AGAIN), now=10.0)
    assert story.articles == 51 and story.updated == 10.0
    assert len(story.centroid) <= 120 and len(story.title_features) <= 40


def test_headline_counts_keep_the_latest_of_each_and_merge_with_a_story() -> None:
    story = story_of(VISIT)
    merge_article(story, features(VISIT_AGAIN), now=1.0, headline_counts=["لتر:1800"])
    for number in range(HEADLINE_COUNTS + 5):
        merge_article(story, features(VISIT_AGAIN), now=2.0, headline_counts=[f"طن:{number}"])
    merge_article(story, features(VISIT_AGAIN), now=3.0, headline_counts=["طن:7"])
    assert len(story.headline_counts) == HEADLINE_COUNTS
    assert story.headline_counts[-1] == "طن:7" and story.headline_counts.count("طن:7") == 1
    assert "لتر:1800" not in story.headline_counts  # the oldest went
    other = story_of(VISIT_AGAIN)
    merge_article(other, features(VISIT_AGAIN), now=4.0, headline_counts=["كيلو:20"])
    absorb_story(story, other)
    assert "كيلو:20" in story.headline_counts and len(story.headline_counts) == HEADLINE_COUNTS
    assert StoryState.from_dict(story.to_dict()) == story


def test_core_entities_come_from_titles() -> None:
    story = story_of(VISIT)
    merge_article(story, features(VISIT_AGAIN), now=1.0)
    assert "PER:فلاديمير بوتين" in story.core_entities()


def test_index_keys_are_what_lookups_use() -> None:
    story = story_of(VISIT)
    assert set(lookup_keys(features(VISIT_AGAIN))) & set(index_keys(story))
    assert "@LOC:مصر" not in lookup_keys(features(FOOTBALL))  # too common to index


def test_state_round_trips_through_a_dict() -> None:
    story = story_of(VISIT)
    assert StoryState.from_dict(story.to_dict()) == story


def test_features_round_trip_through_pickle() -> None:
    # The prep workers send them to the deciding process pickled (rows packed as tuples).
    article = features(VISIT)
    article.text.sentences[0].actions = ["act:visit"]
    article.text.sentences[0].background = False
    back = pickle.loads(pickle.dumps(article, protocol=pickle.HIGHEST_PROTOCOL))
    assert back == article
    assert back.text == article.text
    assert type(back.text.title) is type(article.text.title)
    assert back.text.sentences[0].actions == ["act:visit"]
    assert back.text.sentences[0].background is False
    assert back.text.title.actions is None and back.text.title.background is None
    assert list(back.sketch) == list(article.sketch)  # the same order
    assert back.weighing is not None and article.weighing is not None
    assert back.weighing.word_keys == article.weighing.word_keys
    # Word keys that are not the sketch's first keys travel as they are.
    article.weighing.word_keys = [7, *article.weighing.word_keys]
    assert pickle.loads(pickle.dumps(article)).weighing == article.weighing


def test_an_article_is_analysed_as_its_sentences_one_by_one() -> None:
    title = normalize("بوتين يصل إلى بيونغ يانغ الثلاثاء 18 يونيو")
    body = [normalize(s) for s in [*VISIT[1], *FOOTBALL[1], "", "في 2024"]]
    text = analyse(title, body)
    assert text.title == analyse_sentence(title)
    assert text.sentences == [analyse_sentence(sentence) for sentence in body]
    assert text.title.markers == ["الثلاثاء", "18", "يونيو"]


def test_matcher_scores_every_story_as_similarity_does() -> None:
    # The ranking shortcut must give exactly the scores of the reference formula.
    from monitor.core.stories import BODY_WEIGHT, NEAREST_SCALE, TITLE_WEIGHT, Matcher

    article = features(VISIT_AGAIN)
    matcher = Matcher(article)
    for story in (story_of(VISIT), story_of(VISIT_AGAIN), story_of(FOOTBALL)):
        norm = story.centroid_norm
        shared = article.vector.keys() & story.centroid.keys()
        body = sum([article.vector[key] * story.centroid[key] for key in shared]) / norm
        titled = [
            key
            for key in article.title
            if key in story.title_features or (key[:1] == "@" and key[1:] in story.entities)
        ]
        title = sum(article.title[key] for key in titled) / sum(article.title.values())
        nearest = max(
            sum(article.sketch[k] * other[k] for k in article.sketch.keys() & other.keys())
            for other in story.sketches
        )
        expected = min(1.0, max(BODY_WEIGHT * body + TITLE_WEIGHT * title, NEAREST_SCALE * nearest))
        assert matcher.raw(story) == pytest.approx(expected, rel=1e-12)
        assert similarity(article, story).raw == matcher.raw(story)
        assert similarity(article, story).shared_title == [key.lstrip("@") for key in titled]


def _overlap_as_first_written(article, story):  # type: ignore[no-untyped-def]
    """(body, title, shared title, nearest, raw) as ``Matcher`` computed them before its
    memo and inlining: the same sets, products and sums, one function per step."""
    from itertools import repeat
    from operator import mul
    from sys import intern

    from monitor.core.stories import _combine, _norm, sketch_cosine

    vector = {intern(key): weight for key, weight in article.vector.items()}
    centroid = story.centroid
    norm = story.centroid_norm or _norm(centroid)
    body = 0.0
    if norm:
        shared = vector.keys() & centroid.keys()
        body = sum(map(mul, map(vector.__getitem__, shared), map(centroid.__getitem__, shared)))
        body /= norm
    shared_title: list[str] = []
    total = sum(article.title.values())
    weight_shared = 0.0
    for key, weight in article.title.items():
        entity = key[1:] if key[:1] == "@" else None
        if key in story.title_features or (entity is not None and entity in story.title_entities):
            shared_title.append(key)
            weight_shared += weight
    title = weight_shared / total if total else 0.0
    nearest = 0.0
    if article.sketch:
        nearest = max(map(sketch_cosine, repeat(article.sketch), story.sketches), default=0.0)
    return body, title, shared_title, nearest, _combine(body, title, nearest)


def test_matcher_gives_the_bits_of_the_computation_as_first_written() -> None:
    """Memo by identity, inline body and nearest: the same floats, bit for bit, also after a
    story changed (its memo entries are computed again) and with sketches of other sizes."""
    from monitor.core.stories import Matcher, merge_article

    items = [VISIT, VISIT_AGAIN, FOOTBALL]
    stories = [story_of(item) for item in items]
    short = features(("بوتين", ["كيم"]))  # a sketch shorter than the others
    merge_article(stories[0], short, now=1.0)
    merge_article(stories[2], features(VISIT), now=1.0)
    for item in [*items, ("بوتين", ["كيم"])]:
        article = features(item)
        matcher = Matcher(article)
        for rounds in range(2):
            for story in stories:
                body, title, shared_title, nearest, raw = _overlap_as_first_written(article, story)
                assert matcher.overlap(story) == (body, title, shared_title)
                assert matcher.nearest(story) == nearest
                assert matcher.raw(story) == raw
                assert matcher.centroid_raw(story) == min(1.0, max(0.6 * body + 0.4 * title, 0.0))
                assert matcher.similarity(story).raw == raw
            if rounds == 0:  # stories change between two rankings: no stale memo
                merge_article(stories[1], short, now=2.0)
                merge_article(stories[0], features(FOOTBALL), now=2.0)


def test_index_keys_as_first_written() -> None:
    """The strongest telling centroid keys, then the title's telling keys not among them."""
    from monitor.core.stories import _is_telling, _strongest_telling

    for item in (VISIT, VISIT_AGAIN, FOOTBALL):
        story = story_of(item)
        merge_article(story, features(VISIT), now=1.0)
        expected = _strongest_telling(story.centroid, 24)
        for key in story.title_features:
            if key not in expected and _is_telling(key):
                expected.append(key)
        assert index_keys(story) == expected


def test_strongest_keys_keep_the_heaviest_first_and_ties_in_order() -> None:
    from monitor.core.stories import _strongest_telling

    vector = {"@PER:فلاديمير بوتين": 1.0, "بيونغ": 2.0, "يانغ": 2.0, "زياره": 0.5}
    expected = sorted(vector, key=vector.__getitem__, reverse=True)
    telling = _strongest_telling(vector, 10)
    assert telling == [key for key in expected if key in telling]
    assert telling.index("بيونغ") < telling.index("يانغ")  # tie: insertion order
    assert _strongest_telling(vector, 1) == telling[:1]


def test_heaviest_grams_as_a_full_sort() -> None:
    """The sketch keeps the heaviest grams in the order of a sort on (-weight, gram), ties at
    the cut included, whatever the number of grams."""
    import numpy as np

    from monitor.core.stories import _heaviest

    rng = np.random.default_rng(7)
    for size in (0, 1, 5, 80, 81, 300, 2000):
        grams = rng.permutation(10 * size + 1)[:size].astype(np.int64)
        # Few distinct weights: many ties, also at the limit's place.
        weights = rng.integers(0, 6, size).astype(np.float64) / 3.0
        for limit in (1, 3, 80):
            expected = sorted(range(size), key=lambda i: (-weights[i], grams[i]))[:limit]
            assert _heaviest(grams, weights, limit).tolist() == expected


def test_char_sketch_of_many_grams() -> None:
    """An article of many terms keeps its ``SKETCH_GRAMS`` heaviest grams, unit length."""
    import math

    from monitor.core.arabic import normalize, tokens
    from monitor.core.stories import SKETCH_GRAMS, char_sketch

    words = tokens(normalize("وصل الرئيس الروسي فلاديمير بوتين إلى بيونغ يانغ في زيارة رسمية"))
    sketch = char_sketch(words[:4], [words, words[2:]])
    assert len(sketch) == SKETCH_GRAMS
    weights = list(sketch.values())
    assert weights == sorted(weights, reverse=True)
    assert math.isclose(sum(w * w for w in weights), 1.0)


def _straight_features(text):  # type: ignore[no-untyped-def]
    """``features_of`` as first written: each part by its own function, the weights by a
    loop of ``1 + log(count)``."""
    import math
    from collections import Counter

    from monitor.core import stories
    from monitor.core.entities import entity_weight
    from monitor.core.terms import idf_table

    lead = text.sentences[: stories.BODY_SENTENCES]
    entities: Counter[str] = Counter(text.title.entities)
    counts: dict[str, float] = {}
    for sentence in lead:
        entities.update(sentence.entities)
        for term in sentence.terms:
            counts[term] = counts.get(term, 0.0) + 1
    for term in text.title.terms:
        counts[term] = counts.get(term, 0.0) + stories.TITLE_TERM_BOOST
    idf_of, unseen = idf_table()
    vector = {term: (1.0 + math.log(n)) * idf_of.get(term, unseen) for term, n in counts.items()}
    for key, count in entities.items():
        vector["@" + key] = (1.0 + math.log(count)) * entity_weight(key) * stories.ENTITY_BOOST
    title = {term: idf_of.get(term, unseen) for term in text.title.terms}
    for key in text.title.entities:
        title["@" + key] = entity_weight(key) * stories.ENTITY_BOOST
    unit = stories._unit(stories._top(vector, stories.ARTICLE_FEATURES))
    made = stories.ArticleFeatures(
        unit, title, entities, set(text.title.entities), text,
        stories._article_sketch(unit, stories.text_sketch(text)),
    )  # fmt: skip
    made.weighing = stories.weighing_of(made)
    return made


def _facts(features):  # type: ignore[no-untyped-def]
    from monitor.core.stories import Weighing

    weighing = [getattr(features.weighing, name) for name in Weighing.__slots__]
    return (
        list(features.vector.items()), list(features.title.items()),
        list(features.entities.items()), features.title_entities,
        list(features.sketch.items()), weighing,
    )  # fmt: skip


def test_features_of_as_the_straightforward_parts() -> None:
    """``features_of``'s fused passes (weights of counts from a table, the character half
    halved on its array, where it starts known, each term's IDF looked up once for the
    vector, the title and the weighing, each entity's key and weight from a memo, the
    sketch's sentences counted once for the sketch and the vector) give the
    same values in the same order as each part worked out on its own; with the character
    sketch given too, and with the entity memo empty."""
    import random

    from monitor.core import stories
    from monitor.core.stories import analyse_tokens, features_of, text_sketch

    rng = random.Random(18)
    words = [
        normalize(word)
        for word in [
            *" ".join(VISIT[1] + VISIT_AGAIN[1] + FOOTBALL[1]).split(),
            *["زقزقلوب", "فرنتوكس", "مصر", "القاهرة", "الرئيس", "محمد", "مرسي", "السيسي"],
        ]
    ]
    cases = [
        [[], []],
        [["بوتين"], []],
        [[], ["بوتين", "يصل"]],
        [["زقزقلوب"], ["فرنتوكس"] * 5000],  # a count past the table of logarithms
        [["مصر"] * 3, ["مصر"] * 4097],
    ]
    for _ in range(150):
        sentences = rng.randint(0, 16)
        cases.append(
            [rng.choices(words, k=rng.randint(0, 8))]
            + [rng.choices(words, k=rng.randint(0, 25)) for _ in range(sentences)]
        )
    for index, token_lists in enumerate(cases):
        if index % 7 == 0:
            stories._ENTITY_KEYS.clear()
        text = analyse_tokens(token_lists)
        expected = _facts(_straight_features(text))
        assert _facts(features_of(text)) == expected
        assert _facts(features_of(text, text_sketch(text))) == expected
    assert any(key.startswith("PER:") for key in stories._ENTITY_KEYS)  # names read too


def test_telling_keys_and_word_keys_learnt_in_place_are_the_straightforward_ones() -> None:
    """The strongest telling keys of ``lookup_keys`` and ``index_keys`` (telling learnt key
    by key where missing, no set of the keys) and ``_word_keys`` (likewise) are the
    straightforward ones: with the tables empty, partly filled, full (emptied on the way)
    and warm."""
    import random

    from monitor.core import stories
    from monitor.core.entities import entity_weight
    from monitor.core.terms import idf

    def telling(key: str) -> bool:
        if key.startswith("@"):
            return entity_weight(key[1:]) >= stories.MIN_KEY_IDF
        return idf(key) >= stories.MIN_KEY_IDF

    def strongest(vector: dict[str, float], limit: int) -> list[str]:
        ranked = sorted(vector, key=lambda key: -vector[key])  # stable on ties
        return [key for key in ranked if telling(key)][:limit]

    rng = random.Random(7)
    words = [
        normalize(word)
        for word in " ".join([*VISIT[1], *VISIT_AGAIN[1], *FOOTBALL[1], VISIT[0]]).split()
    ]
    words += ["@LOC:مصر", "@PER:بوتين", "@ORG:زقزقلوب فرنتوكس", "مصر", "زقزقلوب"]
    vectors = [
        {key: rng.choice([0.5, 1.0, 2.0, rng.random()]) for key in rng.sample(words, 30)}
        for _ in range(60)
    ]
    limit = stories._TELLING_MAX
    try:
        for bound in (limit, 25):
            stories._TELLING_MAX = bound
            stories._TELLING.clear()
            stories._WORD_KEYS.clear()
            for vector in vectors + vectors:
                assert stories._strongest_telling(vector, 12) == strongest(vector, 12)
                assert stories._word_keys(vector) == [stories._word_key(key) for key in vector]
                assert len(stories._TELLING) <= bound
    finally:
        stories._TELLING_MAX = limit


def _straight_char_weights(title_terms, lead):  # type: ignore[no-untyped-def]
    """``stories._char_weights`` as written before the grams' keys: each gram looked up in
    ``gram_idf_table`` (its place there, or past it for an unknown gram), its hash and IDF
    read from the table."""
    from collections import Counter

    import numpy as np

    from monitor.core import stories

    counts = Counter(chain.from_iterable(lead))
    for term in title_terms:
        counts[term] += stories.TITLE_TERM_BOOST
    if not counts:
        return None
    known, idf, unseen = stories.gram_idf_table()
    size = len(known)
    places_of = {}
    for term in counts:
        hashes = np.array(stories._gram_hashes(term), dtype=np.uint32)
        where = np.minimum(np.searchsorted(known, hashes), size - 1)
        places_of[term] = np.where(known[where] == hashes, where, size + hashes.astype(np.int64))
    places = np.sort(np.concatenate([np.repeat(places_of[t], n) for t, n in counts.items()]))
    places, tf = np.unique(places, return_counts=True)
    inside = places[places < size]
    grams = np.concatenate((known[inside], places[places >= size] - size))
    weights = np.concatenate((idf[inside], np.full((places >= size).sum(), unseen)))
    weights *= 1.0 + np.log(tf)
    order = np.lexsort((grams, -weights))[: stories.SKETCH_GRAMS]
    kept = weights[order]
    norm = math.sqrt(np.dot(kept, kept))
    return None if not norm else (grams[order], kept / norm)


def test_char_weights_by_gram_keys_are_the_table_lookups() -> None:
    """The character sketch read off its grams' keys (hash and IDF code, sorted by hash,
    known and unknown grams mixed) has the grams and weights, in the order, of the sketch
    whose grams are looked up in the IDF table: fresh and learnt terms, bundled words and
    unknown ones, repeats, empty articles."""
    import random

    from monitor.core import stories
    from monitor.core.terms import document_frequencies

    rng = random.Random(10)
    vocabulary = list(document_frequencies()[1])
    words = [*rng.sample(vocabulary, 300), "زقزقلوب", "فرنتوكس", "بيونغيانغستان", "x9q", "م"]
    words += [normalize(word) for word in " ".join([*VISIT[1], *FOOTBALL[1]]).split()]
    cases = [([], []), (["زقزقلوب"], []), ([], [["فرنتوكس"] * 50])]
    for _ in range(120):
        title = rng.choices(words, k=rng.randint(0, 8))
        lead = [rng.choices(words, k=rng.randint(0, 30)) for _ in range(rng.randint(0, 3))]
        cases.append((title, lead))
    for index, (title, lead) in enumerate(cases):
        if index % 40 == 0:
            stories._GRAMS.clear()
        expected = _straight_char_weights(title, lead)
        found = stories._char_weights(title, lead)
        if expected is None:
            assert found is None
            continue
        assert found is not None
        assert found[0].tolist() == expected[0].tolist()
        assert found[1].tolist() == expected[1].tolist()  # the same floats


def test_sketch_grams_learnt_for_a_chunk_give_the_same_features() -> None:
    """``learn_sketch_grams`` (a prep worker learns a chunk's new terms' grams together,
    before the chunk's features) leaves the features as learning them article by article
    does: the same sketches, with the gram memo empty or warm."""
    from monitor.core import stories
    from monitor.core.stories import analyse_tokens, features_of, learn_sketch_grams

    texts = [
        analyse_tokens([tokens(normalize(title)), *[tokens(normalize(s)) for s in body]])
        for title, body in (VISIT, VISIT_AGAIN, FOOTBALL, ("زقزقلوب فرنتوكس", ["بيونغيانغستان"]))
    ]
    stories._GRAMS.clear()
    expected = [list(features_of(text).sketch.items()) for text in texts]
    for warm in (False, True):
        if not warm:
            stories._GRAMS.clear()
        learn_sketch_grams(texts)
        assert all(term in stories._GRAMS for text in texts for term in text.title.terms)
        assert [list(features_of(text).sketch.items()) for text in texts] == expected


def test_matcher_on_random_stories_as_first_written() -> None:
    """Random articles against random stories that change between articles: the body and
    the nearest sketch as the dict views' sums give them, the title's share as its loop as
    first written, and the centroid score (``_combine``'s, inline) from them, bit for bit."""
    import math
    import random
    from operator import mul

    from monitor.core import stories
    from monitor.core.stories import ArticleFeatures, Matcher, StoryState, analyse

    rng = random.Random(18)
    words = [f"w{i}" for i in range(400)]
    grams = [rng.randrange(1 << 40) for _ in range(2_000)]

    def unit(keys: list, size: int) -> dict:  # type: ignore[type-arg]
        chosen = rng.sample(keys, size)
        weights = [rng.random() for _ in chosen]
        norm = math.sqrt(sum(w * w for w in weights))
        return dict(zip(chosen, [w / norm for w in weights], strict=True))

    names = [f"PER:n{i}" for i in range(30)]

    def title() -> dict:  # type: ignore[type-arg]
        keys = rng.sample(words[:60], rng.randint(0, 8)) + [
            "@" + name for name in rng.sample(names, rng.randint(0, 3))
        ]
        return {key: rng.random() for key in keys}

    def article() -> ArticleFeatures:
        return ArticleFeatures(
            unit(words, rng.randint(0, 60)), title(), {}, set(), analyse("", []),
            unit(grams, rng.randint(0, 140)),
        )  # fmt: skip

    def title_share(a: ArticleFeatures, story: StoryState) -> tuple[float, list[str]]:
        # The title's loop as first written (``_overlap_as_first_written``).
        shared, weight = [], 0.0
        for key, value in a.title.items():
            entity = key[1:] if key[:1] == "@" else None
            if key in story.title_features or (
                entity is not None and entity in story.title_entities
            ):
                shared.append(key)
                weight += value
        total = sum(a.title.values())
        return (weight / total if total else 0.0), shared

    def straight(a: ArticleFeatures, story: StoryState) -> tuple[float, float]:
        shared = a.vector.keys() & story.centroid.keys()
        body = sum(
            map(mul, map(a.vector.__getitem__, shared), map(story.centroid.__getitem__, shared))
        )
        body = body / story.centroid_norm if story.centroid_norm else 0.0
        nearest = 0.0
        if a.sketch:
            nearest = max(
                map(stories.sketch_cosine, [a.sketch] * len(story.sketches), story.sketches),
                default=0.0,
            )
        return body, nearest

    def story(index: int) -> StoryState:
        centroid = unit(words, rng.randint(0, 120))
        made = StoryState(id=f"s{index % 7}", title="", created=0.0, updated=0.0)  # ids shared
        made.centroid, made.centroid_norm = centroid, stories._norm(centroid)
        made.sketches = [unit(grams, rng.randint(1, 140)) for _ in range(rng.randint(0, 8))]
        made.title_features = {key: 1.0 for key in rng.sample(words[:60], rng.randint(0, 20))}
        made.title_entities = {name: 1 for name in rng.sample(names, rng.randint(0, 6))}
        return made

    for _ in range(2):
        pool = [story(i) for i in range(30)]
        for _ in range(60):
            a = article()
            matcher = Matcher(a)
            for s in rng.sample(pool, 12):
                body, nearest = straight(a, s)
                share, shared = title_share(a, s)
                assert matcher.overlap(s) == (body, share, shared)
                assert matcher.nearest(s) == nearest
                assert matcher.centroid_raw(s) == min(1.0, max(0.6 * body + 0.4 * share, 0.0))
            changed = rng.choice(pool)  # a story changes between two articles
            changed.centroid = unit(words, rng.randint(1, 120))
            changed.centroid_norm = stories._norm(changed.centroid)
            changed.sketches = [*changed.sketches, a.sketch][-stories.STORY_SKETCHES :]
