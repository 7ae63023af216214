"""A text classifier people ship, trained in milliseconds on product reviews the code writes itself.

The reviews have what real ones have: capitals, punctuation, accents, words of both moods in one review, and a
third class ("question") whose words overlap the others'. Nothing here exports or serves.
"""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

WORDS = {
    "positive": ["great", "love", "excellent", "perfect", "works well", "five stars", "très bien", "happy"],
    "negative": ["terrible", "broke", "awful", "waste of money", "refund", "disappointed", "cassé", "returned"],
    "question": ["does it", "how do I", "is there", "can it", "which size", "will it fit", "où est", "why"],
}
FILLER = ["the product", "this blender", "my order", "the café kit", "it", "the battery", "delivery", "the Lid"]
CLASSES = sorted(WORDS)


def reviews(rows: int = 300, seed: int = 0) -> tuple[list[str], list[str]]:
    """``rows`` reviews and their classes; each review mixes its class's words with filler and, now and then, a
    word of another class."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for _ in range(rows):
        label = CLASSES[int(rng.integers(len(CLASSES)))]
        words = list(rng.choice(WORDS[label], 2)) + list(rng.choice(FILLER, 2))
        if rng.random() < 0.2:
            other = CLASSES[int(rng.integers(len(CLASSES)))]
            words.append(str(rng.choice(WORDS[other])))
        rng.shuffle(words)
        text = " ".join(words)
        texts.append(text.capitalize() + ("?" if label == "question" else rng.choice([".", "!", ""])))
        labels.append(label)
    return texts, labels


def classifier(texts: list[str], labels: list[str]) -> Pipeline:
    """docs/examples.md's text classifier: TF-IDF of words and word pairs, then a logistic regression."""
    pipeline = Pipeline([("tfidf", TfidfVectorizer(ngram_range=(1, 2))), ("model", LogisticRegression(C=5.0))])
    return pipeline.fit(texts, labels)
