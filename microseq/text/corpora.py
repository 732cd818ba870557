"""Corpora for word vectors, made on the spot (no downloads).

* :func:`planted_corpus`: sentences generated from a small grammar whose words are sums of known factors
  (people: role, gender, number; places: country identity, country or capital; companies: identity, firm or
  head; adjectives: identity, base/comparative/superlative). Each word appears beside words that carry its
  factors, so the analogies "king : queen :: man : woman", "france : paris :: japan : tokyo", "acme : smith
  :: hooli : jones" and "big : bigger :: cold : colder" hold by construction, and a pair's similarity is the
  number of factors it shares.
* :func:`python_docs_corpus`: English from the standard library: the help topics of ``pydoc_data`` plus the
  docstrings of the standard library's modules (read with ``ast``, nothing imported).
"""

from __future__ import annotations

import ast
import os
import re
import sysconfig
from dataclasses import dataclass, field

import numpy as np

__all__ = ["PlantedCorpus", "planted_corpus", "python_docs_corpus", "tokenize"]

_ROLES = {  # male form: (female form, the role's own context words)
    "king": ("queen", "crown throne"), "prince": ("princess", "castle heir"), "actor": ("actress", "stage film"),
    "waiter": ("waitress", "restaurant tips"), "father": ("mother", "family home"),
    "son": ("daughter", "child parents"),
    "brother": ("sister", "sibling siblings"), "uncle": ("aunt", "relatives visit"),
    "husband": ("wife", "marriage wedding"), "boy": ("girl", "school toys"),
    "man": ("woman", "adult work"),
    "nephew": ("niece", "cousin birthday"), "lord": ("lady", "manor estate"), "monk": ("nun", "monastery prayer"),
    "hero": ("heroine", "legend quest"), "steward": ("stewardess", "flight cabin"),
}
_PLURALS = {"man": "men", "woman": "women", "wife": "wives", "lady": "ladies", "hero": "heroes"}
_GENDER = {"male": "he his him himself", "female": "she her hers herself"}
_NUMBER = {"one": "a one is was has single", "many": "many several are were have all"}
_COUNTRIES = [  # country, capital, adjective
    ("france", "paris", "french"), ("germany", "berlin", "german"), ("italy", "rome", "italian"),
    ("spain", "madrid", "spanish"), ("japan", "tokyo", "japanese"), ("china", "beijing", "chinese"),
    ("russia", "moscow", "russian"), ("egypt", "cairo", "egyptian"), ("greece", "athens", "greek"),
    ("poland", "warsaw", "polish"), ("sweden", "stockholm", "swedish"), ("norway", "oslo", "norwegian"),
    ("peru", "lima", "peruvian"), ("kenya", "nairobi", "kenyan"), ("turkey", "ankara", "turkish"),
    ("portugal", "lisbon", "portuguese"), ("austria", "vienna", "austrian"), ("ireland", "dublin", "irish"),
    ("cuba", "havana", "cuban"), ("canada", "ottawa", "canadian"),
]
_PLACE_KIND = {"country": "country nation borders land", "capital": "city capital streets mayor"}
_COMPANIES = [  # company, head, product
    ("acme", "smith", "rockets"), ("globex", "jones", "widgets"), ("initech", "lumbergh", "software"),
    ("umbrella", "wesker", "vaccines"), ("hooli", "belson", "search"), ("vandelay", "costanza", "latex"),
    ("wonka", "charlie", "chocolate"), ("stark", "pepper", "armor"), ("wayne", "fox", "trains"),
    ("tyrell", "eldon", "androids"), ("cyberdyne", "dyson", "robots"), ("soylent", "thorn", "food"),
    ("oscorp", "norman", "chemicals"), ("gringotts", "ragnok", "banking"), ("dunder", "wallace", "paper"),
    ("piper", "hendricks", "compression"),
]
_FIRM_KIND = {"firm": "company firm shares profits", "head": "ceo chief executive boss"}
_ADJECTIVES = ["big", "small", "tall", "short", "old", "young", "fast", "slow", "strong", "weak", "rich", "poor",
               "cheap", "long", "high", "low", "warm", "cold", "dark", "bright", "loud", "quiet", "hard", "soft",
               "deep", "clean", "smart", "kind", "safe", "thin", "wide", "calm", "happy", "busy", "hot", "wet"]
_DEGREE = {"base": "very quite so too", "comparative": "than even much more", "superlative": "ever most among all"}


def _plural(word: str) -> str:
    return _PLURALS.get(word, word + "es" if word.endswith("ss") else word + "s")


def _degrees(base: str) -> tuple[str, str]:
    if base.endswith("e"):
        return base + "r", base + "st"
    if base.endswith("y"):
        return base[:-1] + "ier", base[:-1] + "iest"
    if base in ("big", "thin", "hot", "wet"):
        return base + base[-1] + "er", base + base[-1] + "est"
    return base + "er", base + "est"


@dataclass
class PlantedCorpus:
    """Sentences, the analogy questions (a, b, c, d) split into ``dev`` and ``held_out``, and the word-pair
    similarity list (a, b, number of shared factors)."""

    sentences: list[list[str]]
    dev: list[tuple[str, str, str, str]]
    held_out: list[tuple[str, str, str, str]]
    similarity: list[tuple[str, str, float]]
    factors: dict[str, tuple] = field(default_factory=dict)


def planted_corpus(n_sentences: int = 60_000, noise: int = 2, seed: int = 0) -> PlantedCorpus:
    """Generate the planted corpus and its questions; same seed, same corpus. Each sentence holds one word,
    two context words of each of its factors and ``noise`` context words drawn from all factors."""
    if n_sentences < 1:
        raise ValueError(f"planted_corpus: n_sentences must be positive, got {n_sentences}")
    rng = np.random.default_rng(seed)
    factors, context = {}, {}  # word -> its factor tuple, and the context words of each factor
    groups = {"gender": [], "number": [], "place": [], "firm": [], "degree": []}  # analogy word lists per relation
    for male, (female, topic) in _ROLES.items():
        forms = {}
        for gender, word in (("male", male), ("female", female)):
            for number, form in (("one", word), ("many", _plural(word))):
                factors[form] = ("person", male, gender, number)
                context[form] = [topic.split(), _GENDER[gender].split(), _NUMBER[number].split()]
                forms[gender, number] = form
        groups["gender"] += [(forms["male", n], forms["female", n]) for n in ("one", "many")]
        groups["number"] += [(forms[g, "one"], forms[g, "many"]) for g in ("male", "female")]
    for country, capital, adjective in _COUNTRIES:
        for kind, word in (("country", country), ("capital", capital)):
            factors[word] = ("place", country, kind)
            context[word] = [[adjective, adjective + "s"], _PLACE_KIND[kind].split()]
        groups["place"].append((country, capital))
    for company, head, product in _COMPANIES:
        for kind, word in (("firm", company), ("head", head)):
            factors[word] = ("company", company, kind)
            context[word] = [[product, product + "_market"], _FIRM_KIND[kind].split()]
        groups["firm"].append((company, head))
    for base in _ADJECTIVES:
        comparative, superlative = _degrees(base)
        for degree, word in (("base", base), ("comparative", comparative), ("superlative", superlative)):
            factors[word] = ("adjective", base, degree)
            context[word] = [[base + "ness", base + "_things"], _DEGREE[degree].split()]
        groups["degree"] += [(base, comparative), (base, superlative), (comparative, superlative)]
    words = list(factors)
    background = sorted({w for pools in context.values() for pool in pools for w in pool})
    sentences = []
    for _ in range(n_sentences):
        word = words[rng.integers(len(words))]
        sentence = [word]
        for pool in context[word]:  # two words of each factor, at random places
            for _ in range(2):
                sentence.insert(int(rng.integers(len(sentence) + 1)), pool[rng.integers(len(pool))])
        for _ in range(noise):  # and words of any factor, so that every pair of words is seen now and then
            sentence.insert(int(rng.integers(len(sentence) + 1)), background[rng.integers(len(background))])
        sentences.append(sentence)
    questions = []
    for relation, pairs in groups.items():
        kinds = {}
        for a, b in pairs:  # questions only between pairs of the same kind (base->comparative with base->comparative)
            kind = factors[a][-1] if relation == "gender" else (factors[a][-1], factors[b][-1])
            kinds.setdefault(kind, []).append((a, b))
        for same in kinds.values():
            questions += [(a, b, c, d) for a, b in same for c, d in same if a != c]
    order = rng.permutation(len(questions))
    half = len(questions) // 2
    dev = [questions[i] for i in order[:half]]
    held_out = [questions[i] for i in order[half:]]
    similarity = []
    for _ in range(400):
        a, b = rng.choice(len(words), size=2, replace=False)
        fa, fb = factors[words[a]], factors[words[b]]
        shared = sum(x == y for x, y in zip(fa, fb)) if fa[0] == fb[0] else 0
        similarity.append((words[a], words[b], float(shared)))
    return PlantedCorpus(sentences, dev, held_out, similarity, factors)


_WORD = re.compile(r"[a-z_][a-z0-9_]*")
_SENTENCE_END = re.compile(r"[.!?:;]\s+|\n\s*\n")


def tokenize(text: str) -> list[list[str]]:
    """Sentences of lower-case words (identifiers such as ``__init__`` or ``sys_path`` stay whole)."""
    return [s for s in (_WORD.findall(part.lower()) for part in _SENTENCE_END.split(text)) if s]


def python_docs_corpus(max_chars: int = 5_000_000) -> list[list[str]]:
    """The standard library's English: ``pydoc_data`` help topics, then module, class and function
    docstrings of the standard library's sources in sorted file order, until ``max_chars`` characters."""
    from pydoc_data.topics import topics

    texts, total = [topics[k] for k in sorted(topics)], 0
    total = sum(map(len, texts))
    root = sysconfig.get_paths()["stdlib"]
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in ("test", "tests", "idlelib", "site-packages"))
        for name in sorted(filenames):
            if total >= max_chars:
                break
            if not name.endswith(".py"):
                continue
            try:
                with open(os.path.join(dirpath, name), encoding="utf-8") as f:
                    tree = ast.parse(f.read())
            except (SyntaxError, UnicodeDecodeError, OSError, ValueError):
                continue
            for node in ast.walk(tree):
                if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                    doc = ast.get_docstring(node)
                    if doc:
                        texts.append(doc)
                        total += len(doc)
    return tokenize("\n\n".join(texts)[:max_chars])
