"""What a paper proposes: the name it gives its contribution, and what kind of thing it is.

Owns `find_name`, `find_kind` and `is_name_like`. Rules only, over cleaned text:
a name is what follows "we propose / introduce / present ...", what is "named" or
"called" something, an acronym in brackets in such a sentence, "our method X", or
a title prefix "X: ...". Candidates are scored by the pattern that found them and
by how often the abstract repeats them (the proposed name is the one authors
keep using). The kind comes from the words that describe the chosen name ("a
novel framework", "a new benchmark") and from cue words for surveys, analyses,
attacks and defences. Nothing here raises on any input.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from paperfeed.card_types import Kind

__all__ = [
    "NameCandidate", "find_kind", "find_name", "is_generic", "is_name_like", "name_candidates",
]



def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# A token that may be a name: "EViT", "X-Prompt", "Min-K%++", "GPT-2-XL", "Llama3.1".
_TOKEN = r"[A-Za-z0-9][\w.+%'’-]*[\w+%]|[A-Za-z]"
_TOKEN_RE = re.compile(_TOKEN)
# Suffixes that make a hyphenated token an adjective ("LLM-based", "CLIP-guided").
_ADJECTIVE_SUFFIX = re.compile(
    r"-(?:based|driven|guided|aware|free|like|style|specific|agnostic|level|wise|tuned|"
    r"powered|centric|oriented|enhanced|assisted|generated|scale|only|augmented|friendly)$",
    re.IGNORECASE,
)
# Acronyms and model families that papers build on far more often than they propose.
_GENERIC = _words(
    """
    ai ml dl fl nlp cv llm llms vlm vlms mllm mllms lvlm lvlms lmm lmms slm slms cnn cnns rnn
    rnns lstm gnn gnns gan gans vae vaes vit vits rl rlhf gpu gpus cpu cpus tpu api apis
    sota rgb rgb-d 1d 2d 3d 4d iot lora clip bert gpt gpt-2 gpt-3 gpt-4 gpt-4o chatgpt
    transformer transformers nerf nerfs mlp mlps qa vqa ocr asr tts sam dnn dnns ir id ood
    pde pdes ode odes sgd adam moe rag cot mcts dpo ppo grpo sft kv ui ux url urls pdf
    html json sql xml ar vr xr io os dna rna mri ct eeg ecg fmri us uk eu usa i ii iii iv
    """
)
# Words a title prefix "X: ..." must not be ("Position: ...", "Survey: ...").
_TITLE_PREFIX_STOP = _words(
    "position survey review tutorial perspective overview note erratum correction editorial "
    "keynote abstract introduction commentary report preprint"
)
_SUBJECT = (r"(?:we|this\s+(?:paper|work|study|article|letter|report|survey|review)|"
            r"our\s+(?:paper|work|study))")
_VERB = (
    r"(?:propose|introduce|present|develop|design|build|construct|release|create|contribute|"
    r"curate|devise|put\s+forward|offer|establish|formulate|unveil|open-source)(?:s|d)?"
)
_CONTRIBUTION = re.compile(
    rf"\b{_SUBJECT}\b(?:\s+[\w,-]+){{0,4}}?\s+(?:(?:also|further|first|then|here)\s+)?"
    rf"({_VERB})\b",
    re.IGNORECASE,
)
# Another verb of the same subject later in the sentence: "We introduce X ... and present Y".
_LATER_VERB = re.compile(rf"\b(?:and|then|also|to|as a solution)\s+(?:\w+\s+)?({_VERB})\b", re.I)
_NAMED = re.compile(
    rf"\b(?:named|called|dubbed|termed|coined|codenamed|denoted|entitled|referred\s+to)"
    rf"(?:\s+as)?\s+(?:the\s+)?[\"“‘']?({_TOKEN})",
    re.IGNORECASE,
)
_OUR = re.compile(
    r"\b(?:our|the\s+proposed)\s+(?:\w+\s+)?(?:method|approach|model|framework|system|algorithm|"
    rf"technique|network|pipeline|benchmark|dataset|agent|tool|architecture),?\s+({_TOKEN})",
    re.IGNORECASE,
)
_PAREN = re.compile(r"\(\s*([^()\s,;]{2,30})\s*\)")
_DETERMINER = re.compile(r"^(?:the|a|an|our|two|three|new|novel)\s+", re.IGNORECASE)
_TASK_HEAD_BEFORE = re.compile(
    r"\b(?:detection|segmentation|recognition|tracking|classification|retrieval|generation|"
    r"translation|estimation|prediction|answering|summarization|captioning|adaptation|"
    r"learning)\s*$", re.IGNORECASE)
_VERSIONED = re.compile(r"((?:[\w-]+ ){1,4}v\d+(?:\.\d+)?)\b")
_VERSION = re.compile(r"^v\d+(?:\.\d+)*$", re.IGNORECASE)

# Head nouns that say what the contribution is.
_KIND_NOUNS: dict[str, Kind] = {
    **dict.fromkeys(_words("framework frameworks pipeline system systems platform toolkit "
                           "toolbox library agent agents"), "framework"),
    **dict.fromkeys(_words("benchmark benchmarks testbed leaderboard arena"), "benchmark"),
    **dict.fromkeys(_words("dataset datasets corpus corpora database collection"), "dataset"),
    **dict.fromkeys(_words("attack attacks jailbreak jailbreaks"), "attack"),
    **dict.fromkeys(_words("defense defence defenses defences"), "defense"),
    **dict.fromkeys(_words("model models llm architecture foundation"), "model"),
    **dict.fromkeys(_words("method methods approach algorithm technique strategy scheme "
                           "paradigm mechanism module loss network methodology methodologies "
                           "recipe procedure estimator metric objective regularizer optimizer"),
                    "method"),
}
_KIND_NOUN_RE = re.compile(r"\b(" + "|".join(sorted(_KIND_NOUNS, key=len, reverse=True))
                           + r")\b", re.IGNORECASE)
_KIND_AFTER = re.compile(r"\s*\)?\s*(?:[\w-]+\s+){0,2}?" + _KIND_NOUN_RE.pattern,
                         re.IGNORECASE)
_KIND_DIRECT = re.compile(r"\s*\)?\s*(?:[\w-]+\s+){0,2}?" + _KIND_NOUN_RE.pattern, re.I)
_KIND_APPOSITIVE = re.compile(
    r"\s*(?:\([^)]*\)\s*)?,\s*(?:a|an|the)\s+(?:[\w-]+,?\s+){0,7}?" + _KIND_NOUN_RE.pattern, re.I)
_NOT_A_CONTRIBUTION = re.compile(r"\b(?:task|problem|setting|challenge|question)s?\b", re.I)
_SURVEY_TITLE = re.compile(
    r"\bsurvey\b|\b(?:a|an)\s+(?:[\w-]+\s+){0,3}(?:review|overview|tutorial|primer|roadmap)\b|"
    r"^(?:review|overview)\b|\b(?:literature|systematic|scoping)\s+review\b",
    re.IGNORECASE,
)
_SURVEY_TEXT = re.compile(
    r"\b(?:this|our|the\s+present)\s+(?:paper|article|work|chapter)\s+(?:\w+\s+)?"
    r"(?:surveys|reviews)\b|\b(?:this|our|in\s+this)\s+(?:survey|review|overview|tutorial|"
    r"systematic\s+review)\b|\bwe\s+(?:\w+\s+)?(?:survey|review)\s+(?:recent|existing|the\s+"
    r"(?:literature|state|recent|existing|field)|\d+|over|more)",
    re.IGNORECASE,
)
_ANALYSIS = re.compile(
    r"\b(?:we|this\s+(?:paper|work|study))\s+(?:\w+\s+)?(?:analy[sz]e|study|studies|"
    r"investigate|examine|explore|probe|characteri[sz]e|measure|quantify|evaluate|assess|"
    r"audit|compare|revisit)s?\b|\bthis\s+study\b|\bour\s+(?:findings|analysis|results\s+"
    r"(?:show|reveal|suggest))\b|\bwe\s+(?:find|show|observe|reveal)\s+that\b",
    re.IGNORECASE,
)
_NEW_DATA = re.compile(
    r"\b(?:benchmark|dataset|corpus|testbed)s?\b", re.IGNORECASE)
_THREAT = (r"(?:attacks?|jailbreak\w*|backdoor\w*|leakage|adversarial\s+(?:examples?|"
           r"perturbations?|patch(?:es)?|inputs?|attacks?))")
_DEFENSE = re.compile(
    r"\bdefen[cs]\w*|\bdefend\w*|\b(?:counter|resist|thwart|mitigat|protect|shield|"
    rf"safeguard|immuni[sz])\w*\b[^.]{{0,40}}\b{_THREAT}",
    re.IGNORECASE,
)
_ATTACK = re.compile(r"\b(?:attacks?|jailbreak\w*|backdoor\w*|poisoning)\b", re.IGNORECASE)
_ATTACK_TITLE = re.compile(r"\b(?:attacks?|jailbreak\w*|backdoor\w*)\b", re.IGNORECASE)
_DEFENSE_TITLE = re.compile(
    r"\bdefen[cs]\w*|\bdefend\w*|\b(?:robust\w*|protect\w*|mitigat\w*|detect\w*|"
    rf"safeguard\w*|immuni\w*)\b.{{0,40}}\b{_THREAT}",
    re.IGNORECASE,
)
_EVADES = re.compile(r"\b(?:bypass|evad|circumvent|break|our\s+attack)\w*", re.IGNORECASE)


@dataclass(frozen=True)
class NameCandidate:
    """A possible name, the score of the rule that found it, and where (sentence, offset)."""

    text: str
    score: float
    sentence: int
    start: int


def is_generic(token: str) -> bool:
    """Whether a token is a common acronym or model family ("LLMs", "CNN", "ViT")."""
    low = token.lower()
    return low in _GENERIC or (low.endswith("s") and low[:-1] in _GENERIC)


def is_name_like(token: str) -> bool:
    """Whether a token reads as a coined name rather than a word: mixed case, digits, symbols.

    "EViT", "X-Prompt", "Min-K%++", "wav2vec", "LVOS" are; "Transformer", "Open-Set",
    "LLM-based", "LLMs" and numbers are not.
    """
    if token.islower() and token.isalpha():
        return False  # most words: skip the cache and the rules
    return _name_like(token)


@functools.lru_cache(maxsize=65536)  # tokens recur across a corpus: "ImageNet", "LLMs"
def _name_like(token: str) -> bool:
    word = token.rstrip("'’s") if token.endswith(("'s", "’s")) else token
    if len(word) < 2 or len(word) > 40 or not any(c.isalpha() for c in word):
        return False
    if word.lower() in _GENERIC or _ADJECTIVE_SUFFIX.search(word):
        return False
    if word.isdigit() or re.fullmatch(r"[\d.,]+[a-zA-Z%]?", word):
        return False
    if any(c in word for c in "%+") and any(c.isupper() for c in word):
        return True
    parts = [p for p in word.replace(".", "-").split("-") if p]
    if len(parts) > 1:
        # "Open-Set" is two words; "X-Prompt", "SMG-Learning", "GPT-2-XL" are names.
        return any((len(p) == 1 and p.isupper()) or _coined(p) for p in parts)
    return _coined(word)


def _coined(part: str) -> bool:
    upper = sum(c.isupper() for c in part)
    if part.isupper() and upper >= 2:
        return part.lower() not in _GENERIC and part.rstrip("S").lower() not in _GENERIC
    if any(c.isdigit() for c in part) and any(c.isalpha() for c in part):
        return True
    # Mixed case beyond a capital first letter: "TagOOD", "iNaturalist", "PortLLM".
    return upper >= 2 or (upper == 1 and not part[0].isupper())


def name_candidates(title: str, sentences: Sequence[str]) -> list[NameCandidate]:
    """Every candidate name in the title and sentences, with its rule score."""
    found: list[NameCandidate] = []
    prefix = _title_prefix(title)
    if prefix:
        found.append(NameCandidate(prefix, 4.0, -1, 0))
    for index, sentence in enumerate(sentences):
        found.extend(_sentence_candidates(index, sentence))
    return found


def find_name(title: str, sentences: Sequence[str]) -> str | None:
    """The name the paper gives what it proposes, as written, or None."""
    best = _best(title, sentences)
    return best.text if best else None


def _best(title: str, sentences: Sequence[str]) -> NameCandidate | None:
    candidates = name_candidates(title, sentences)
    if not candidates:
        return None
    text = " ".join([title, *sentences])
    scored: dict[str, tuple[float, int, int, NameCandidate]] = {}
    for cand in candidates:
        # Repetition is the best sign of what the paper is about.
        count = len(re.findall(r"(?<![\w-])" + re.escape(cand.text) + r"(?![\w-])", text)) \
            if cand.text in text else 0
        total = cand.score + min(max(count - 1, 0), 2)
        key = cand.text.lower()
        order = (total, -cand.sentence, -cand.start, cand)
        if key not in scored or order[:3] > scored[key][:3]:
            scored[key] = order
    return max(scored.values(), key=lambda item: item[:3])[3]


def _title_prefix(title: str) -> str | None:
    head, sep, _ = title.partition(":")
    if not sep:
        return None
    head = head.strip().strip("\"“”'")
    words = head.split()
    if not 1 <= len(words) <= 3 or head.lower() in _TITLE_PREFIX_STOP:
        return None
    if len(words) == 1:
        # One word before a colon names the system ("Calligrapher: ...").
        word = words[0]
        ok = len(word) >= 3 and word[0].isalpha() and word.lower() not in _GENERIC
        return word if ok and (word[0].isupper() or is_name_like(word)) else None
    if any(is_name_like(w) for w in words) and all(w[0].isupper() or w[0].isdigit()
                                                    or _VERSION.match(w) for w in words):
        return head
    return None


def _sentence_candidates(index: int, sentence: str) -> list[NameCandidate]:
    found: list[NameCandidate] = []
    # "This approach is named X" outside a contribution sentence names a part, not the whole.
    named_score = 5.0 if _CONTRIBUTION.search(sentence) else 3.0
    for match in _NAMED.finditer(sentence):
        token = _strip_token(match.group(1))
        after = sentence[match.end(1):match.end(1) + 50]
        # 'called "Cache, Residual, Gaussian" (CRG)': the bracketed short form is the name.
        acronym = _PAREN.search(after) if "(" in after else None
        # "named Parallel Gradient Alignment (PGA)": the bracketed short form is the name.
        if acronym and is_name_like(acronym.group(1)):
            found.append(NameCandidate(acronym.group(1), named_score, index, match.start()))
        elif token and (is_name_like(token) or token[0].isupper()) and not _is_task(sentence,
                                                                                    match):
            found.append(NameCandidate(token, named_score, index, match.start(1)))
    for match in _OUR.finditer(sentence):
        token = _strip_token(match.group(1))
        if is_name_like(token):
            found.append(NameCandidate(token, 4.0, index, match.start(1)))
    for verb_end in _verb_ends(sentence):
        found.extend(_object_candidates(index, sentence, verb_end))
    return found


def _verb_ends(sentence: str) -> list[int]:
    first = _CONTRIBUTION.search(sentence)
    if first is None:
        return []
    ends = [first.end()]
    ends.extend(m.end() for m in _LATER_VERB.finditer(sentence, first.end()))
    return ends


def _object_candidates(index: int, sentence: str, verb_end: int) -> list[NameCandidate]:
    """Candidates in the object of a contribution verb, up to 16 words after it."""
    rest = sentence[verb_end:]
    if re.match(r"\s+to\s+\w", rest):  # "we propose to reorganize ...": no name here
        return []
    window = " ".join(rest.split()[:16])
    found: list[NameCandidate] = []
    body = _DETERMINER.sub("", window.lstrip())
    tokens = list(_TOKEN_RE.finditer(body))
    if tokens:
        first = _strip_token(tokens[0].group(0))
        appositive = body[tokens[0].end():].lstrip()[:1] in (",", "(", ":")
        plain_name = appositive and first[:1].isupper() and len(first) > 2 \
            and first.lower() not in _GENERIC
        if (is_name_like(first) or plain_name) and not _describes_task(body[tokens[0].end():]):
            found.append(NameCandidate(first, 5.0, index, verb_end))
    for paren in _PAREN.finditer(window):
        acronym = paren.group(1)
        # "a Conformal Prediction (CP) based framework": an ingredient, not the name.
        ingredient = re.match(r"\s*-?based\b", window[paren.end():]) is not None
        # "Multi-Source Domain Adaptation (MSDA)": the acronym of a task, not of a system.
        ingredient = ingredient or _TASK_HEAD_BEFORE.search(window, 0, paren.start()) is not None
        if is_name_like(acronym) and not ingredient and not _describes_task(window[paren.end():]):
            found.append(NameCandidate(acronym, 4.0, index, verb_end + paren.start()))
    for token in tokens[1:10]:
        text = _strip_token(token.group(0))
        # "the X-Prompt framework", "a CGR detection framework"
        if is_name_like(text) and _KIND_AFTER.match(body, token.end()):
            found.append(NameCandidate(text, 3.0, index, verb_end + token.start()))
    # "we present a generalized OOD detection v2": a versioned name.
    version = _VERSIONED.search(body, 0, 60) if " v" in body[:60] else None
    if version:
        found.append(NameCandidate(version.group(1), 4.0, index, verb_end))
    return found


def _strip_token(token: str) -> str:
    token = token.strip("'’\"“”")
    return token[:-2] if token.endswith(("'s", "’s")) else token


def _describes_task(after: str) -> bool:
    """Whether the words after a candidate say it is a task ("SIR, a new long-context task")."""
    head = re.match(r"\s*(?:\([^)]*\)\s*)?,?\s*(?:a|an|the)\s+((?:[\w-]+\s+){0,3}[\w-]+)", after)
    return bool(head and _NOT_A_CONTRIBUTION.search(head.group(1).split()[-1]))


def _is_task(sentence: str, match: re.Match[str]) -> bool:
    before = sentence[max(0, match.start() - 25):match.start()]
    return bool(_NOT_A_CONTRIBUTION.search(before))


# --- kind ---------------------------------------------------------------------------------


def find_kind(title: str, sentences: Sequence[str], name: str | None) -> Kind:
    """What the paper contributes: a survey, a benchmark, a method, an attack, ..."""
    text = " ".join(sentences)
    lowered = (title + " " + text).lower()
    surveyish = any(w in lowered for w in ("survey", "review", "overview", "tutorial", "primer",
                                           "roadmap"))
    if surveyish and (_SURVEY_TITLE.search(title) or _SURVEY_TEXT.search(text)):
        return "survey"
    threat = any(w in lowered for w in ("attack", "defen", "jailbreak", "backdoor", "leakage",
                                        "adversar", "poison"))
    described = _described_kind(title, sentences, name) if name else None
    if described in ("benchmark", "dataset"):
        return described
    if threat:
        threat_kind = _threat_kind(title, sentences, name)
        if threat_kind:
            return threat_kind
    if described:
        return described
    if not name:
        contribution = " ".join(s for s in sentences if _CONTRIBUTION.search(s))
        noun = _NEW_DATA.search(contribution)
        if noun:
            return "benchmark" if noun.group(0).lower().startswith(("bench", "test")) \
                else "dataset"
        if not contribution and _ANALYSIS.search(text):
            return "analysis"
    return "method"


def _threat_kind(title: str, sentences: Sequence[str], name: str | None) -> Kind | None:
    """"attack" or "defense" for security papers, from the title, then the contribution."""
    if _ATTACK_TITLE.search(title) and not _DEFENSE_TITLE.search(title):
        return "attack"
    if _DEFENSE_TITLE.search(title):
        return "defense"
    description = _description(sentences, name) if name else ""
    if _DEFENSE.search(description):
        return "defense"
    if _ATTACK.search(description):
        return "attack"
    # A defence is often described in a later sentence ("This technique counters ... attacks").
    later = sentences[_first_contribution(sentences):]
    if any(_DEFENSE.search(s) and not _EVADES.search(s) for s in later):
        return "defense"
    return None


def _first_contribution(sentences: Sequence[str]) -> int:
    for index, sentence in enumerate(sentences):
        if _CONTRIBUTION.search(sentence):
            return index
    return len(sentences)


def _description(sentences: Sequence[str], name: str) -> str:
    """The words around the first mention of `name` in a contribution sentence."""
    for sentence in sentences:
        at = sentence.find(name)
        if at < 0:
            continue
        verb = _CONTRIBUTION.search(sentence)
        start = verb.end() if verb and verb.end() <= at else at
        after = sentence[at + len(name):]
        if verb is None and not re.match(r"\s*(?:\([^)]*\)\s*)?,", after):
            continue
        tail = " ".join(after.split()[:12])
        return sentence[start:at] + " " + tail
    return ""


def _described_kind(title: str, sentences: Sequence[str], name: str) -> Kind | None:
    """The kind noun describing the first contribution mention of `name`.

    In order: right after it ("the CGR framework"), in an appositive ("X, a
    training-free framework"), then the nearest before it ("a benchmark named X").
    """
    head, colon, description = title.partition(":")
    if colon and name in head and re.match(r"\s*(?:a|an|the)\b", description, re.I):
        # "SimWorld: A Unified Benchmark for ...": the title says what the name is.
        first = re.split(r"\b(?:for|of|with|via|to|in|on|from|and|using)\b", description)[0]
        noun = _KIND_NOUN_RE.search(first)
        if noun:
            return _model_or_method(_KIND_NOUNS[noun.group(1).lower()], first)
    for sentence in sentences:
        at = sentence.find(name)
        if at < 0:
            continue
        verb = _CONTRIBUTION.search(sentence)
        after = sentence[at + len(name):at + len(name) + 120]
        direct = _KIND_DIRECT.match(after)
        appositive = _KIND_APPOSITIVE.match(after)
        named = _NAMED.search(sentence, 0, at + len(name))
        if verb is None and named is None and not appositive and not _OUR.search(sentence):
            continue
        context = sentence[max(0, at - 80):at + len(name) + 80]
        if direct:
            return _model_or_method(_KIND_NOUNS[direct.group(1).lower()], context)
        if appositive:
            return _model_or_method(_KIND_NOUNS[appositive.group(1).lower()], context)
        before = sentence[verb.end() if verb and verb.end() <= at else max(0, at - 60):at]
        nouns = list(_KIND_NOUN_RE.finditer(before))
        if nouns:
            return _model_or_method(_KIND_NOUNS[nouns[-1].group(1).lower()], context)
        return None
    return None


def _model_or_method(kind: Kind, words: str) -> Kind:
    # "a language model" is a model; "a model compression framework" is not.
    if kind == "model" and not re.search(
        r"\b(?:language|foundation|vision|multimodal|diffusion|generative|world|reward|"
        r"base|pretrained|pre-trained|\d+(?:\.\d+)?[BM])\s+(?:models?|llm)\b|\barchitecture\b",
        words, re.IGNORECASE,
    ):
        return "method"
    return kind
