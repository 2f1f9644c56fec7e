"""Datasets and tasks mentioned in a paper, by rules, optionally merged with a tagger's spans.

Owns `find_datasets` and `find_tasks`. The rules are the baseline
and always run:

* datasets: "the X dataset / benchmark / corpus", "X, a ... benchmark", "a new
  benchmark named X", lists after "datasets such as / including / namely", and
  coined names ("LaSOT", "ImageNet-1k") after "on / across" in sentences that
  report experiments;
* tasks: the long forms of acronyms whose last word is a task word ("Video
  Object Segmentation (VOS)"), noun phrases ending in a task word ("visual
  object tracking"), lists after "tasks:", and the "for X" end of a title.

A tagger's DATASET and TASK spans join the rules' findings when they pass the
same filters: adding them unfiltered halved precision on the dev cards. No list
of known datasets is used: the rules only read the paper in front of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence

from paperfeed.card_types import Span
from paperfeed.cards.names import is_generic, is_name_like

__all__ = ["defined_acronyms", "find_datasets", "find_tasks"]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_DATA_NOUNS = _words("dataset datasets benchmark benchmarks corpus corpora database databases "
                     "suite suites testbed testbeds")
# Nouns after which a list of coined names is data: "tasks BoolQ, SST2", "datasets: A, B".
_LIST_NOUNS = _DATA_NOUNS | _words("tasks data sets splits")
_LIST_CUES = _words("including include includes as namely like e.g e.g., i.e : viz")
_SEPARATORS = _words(", and or")
_TRAILING_DATA_NOUN = re.compile(r"\s+(?:dataset|datasets|benchmark|data|corpus|set)$")
_DATA_WORD = re.compile(r"bench|data|corpus|set\b|suite|collection|\d", re.IGNORECASE)
# Model families: "ResNet15", "Llama-3-8B", "YOLOv8" are not data.
_MODEL_PREFIX = re.compile(
    r"(?:resnet|densenet|efficientnet|mobilenet|u-?net|vgg|yolo|swin|convnext|llama|qwen|"
    r"gpt|mistral|gemma|deepseek|claude|gemini|bert|roberta|t5|bart|whisper|vit|deit|clip|"
    r"sam|dino|llava|blip|stable\s?diffusion|sd-?\d|flux|phi-?\d|internvl|x-ray)",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"\d{1,3}(?:,\d{3})+[\w-]*|[\w+%'’&/.-]*[\w+%]|[,;:()\[\]{}]")
_EVAL = re.compile(
    r"\b(?:experiment|evaluat|result|outperform|achiev|state-of-the-art|benchmark|dataset|"
    r"test|surpass|improv|accuracy|score|performance)",
    re.IGNORECASE,
)
_LEADING = _words(
    "the a an our this these those their its new novel public publicly popular standard "
    "several various multiple two three four five six seven eight nine ten many all both "
    "large-scale challenging widely-used widely used real-world existing proposed more most "
    "other same different diverse benchmark dataset on of in and or extensive"
)
# Model families and metric names: read as coined names, but not data.
_NOT_DATA = _words(
    "gpt gpt-2 gpt-3 gpt-3.5 gpt-4 gpt-4o gpt-4v llama llama2 llama-2 llama3 llama-3 "
    "llama3.1 qwen qwen2 qwen2.5 mistral mixtral gemma gemma2 claude gemini deepseek phi "
    "bert roberta t5 vit deit resnet clip sam dino dinov2 chatgpt llava blip "
    "auc auroc map miou iou psnr ssim fid bleu rouge f1 em accuracy sota lora "
    # Languages, platforms, sensors and modalities are named in evaluation sentences
    # ("experiments on English and Chinese", "real GitHub issues", "UAV imagery") without
    # being datasets: the most frequent false datasets over the 75k corpus.
    "english chinese german french spanish japanese korean arabic hindi russian multilingual "
    "github huggingface hugging kaggle reddit twitter wikipedia youtube "
    "uav uavs gui guis hsi lidar rgb rgb-d mri ct pet x-ray eeg ecg fmri radar sar "
    "bench benchmark benchmarks dataset datasets"
)
_MODEL_NOUNS = _words("model models backbone backbones baseline baselines llm llms encoder "
                      "encoders architecture architectures family")

_TASK_HEADS = _words(
    """detection segmentation recognition tracking classification retrieval generation
    translation estimation prediction answering summarization captioning reasoning
    understanding synthesis reconstruction parsing identification localization grounding
    completion editing inpainting super-resolution denoising deblurring forecasting planning
    navigation compression quantization pruning attribution inference learning training
    generalization association diagnosis verification extraction labeling tagging matching
    registration ranking recommendation distillation fine-tuning interpretability robustness
    personalization modeling modelling adaptation discovery attack attacks alignment
    analysis approximation transfer search localisation restoration enhancement
    """
)
_TASK_STOP = _words(
    """the a an this that these those our their its existing previous prior current
    traditional conventional various different many several both other such new novel
    of for and or in on to with by from via using based as at into is are was were be its
    has have can we it which while also further first proposed recent standard typical
    downstream challenging critical crucial important key general specific real-world
    robust strong high low large small effective efficient accurate more most less
    improve improves improved improving enhance enhances boosting achieving enabling
    enhanced scalable unified fast faster better towards toward explainable transparent
    simple lightweight generalizable reliable
    """
)
_ING_OK = _words("learning training processing reasoning understanding computing mining "
                 "modeling modelling answering tracking matching ranking editing pruning")
_TITLE_FOR = re.compile(
    r"\bfor\s+((?:[\w-]+\s+){0,5}?[\w-]+)\s*(?=$|\b(?:on|via|with|using|by|in|from|through|"
    r"against|under|at|and|to)\b|[:,?.])",
    re.IGNORECASE,
)
_TASK_LIST = re.compile(
    r"\btasks?\b\s*(?:\(\s*)?(?:including|such\s+as|namely|like|e\.g\.,?|i\.e\.,?|:)\s*",
    re.IGNORECASE,
)
_ACRONYM = re.compile(r"\(([A-Z][A-Za-z0-9+-]{1,11})s?\)")


def defined_acronyms(sentences: Sequence[str]) -> dict[str, str]:
    """Acronym -> long form for "Long Form (LF)" definitions in the text."""
    found: dict[str, str] = {}
    for sentence in sentences:
        for match in _ACRONYM.finditer(sentence):
            acronym = match.group(1)
            long_form = _long_form(sentence[:match.start()], acronym)
            if long_form and acronym not in found:
                found[acronym] = long_form
    return found


def _long_form(before: str, acronym: str) -> str | None:
    """The shortest run of words before "(ACR)" whose initials spell the acronym in order."""
    letters = [c.lower() for c in acronym if c.isupper()]
    words = before.split()[-(len(letters) + 3):]
    if not letters or not words:
        return None
    for i in range(len(words) - 1, -1, -1):
        phrase = words[i:]
        if phrase[0][:1].lower() != letters[0]:
            continue
        initials = iter(part[0].lower() for w in phrase for part in w.split("-") if part)
        if all(letter in initials for letter in letters):  # a subsequence test
            return " ".join(phrase).strip(",;:")
    return None


# --- datasets -----------------------------------------------------------------------------


def find_datasets(
    sentences: Sequence[str], *, exclude: Iterable[str] = (), own_data: str | None = None,
    spans: Iterable[Span] = (),
) -> list[str]:
    """Dataset and benchmark names, as written, in order of first mention.

    `exclude` holds names that are not data (the proposed method's name); a
    paper whose contribution is a benchmark or dataset passes its name as `own_data`.
    A tagger's DATASET `spans` are added when they pass the rules' filters and
    contain a coined name ("ImageNet-1k", not "RGB data" or "the training set").
    """
    acronyms = defined_acronyms(sentences)
    # "end-turn detection (ETD)", "Alzheimer's Disease (AD)": an acronym is data only
    # when its long form says so ("Massive Text Embedding Benchmark (MTEB)").
    not_data = {a for a, long in acronyms.items() if not _DATA_WORD.search(long)}
    skip = {e.lower() for e in exclude} | {a.lower() for a in not_data}
    found: list[str] = [own_data] if own_data else []
    for sentence in sentences:
        for item in _dataset_items(sentence):
            if _is_data_name(item, skip):
                found.append(item)
    for span in spans:
        text = _TRAILING_DATA_NOUN.sub("", span.text.strip(" ,;:."))
        if (span.label == "DATASET" and text[:1].isupper() and not set(text) & set("()[],;")
                and any(is_name_like(w) for w in text.split()) and _is_data_name(text, skip)):
            found.append(text)
    return _unique(found)


def _dataset_items(sentence: str) -> Iterator[str]:
    tokens = [t.rstrip(".") or t for t in _TOKEN.findall(sentence)]
    lowered = [t.lower() for t in tokens]
    evaluation = _EVAL.search(sentence) is not None
    for i, low in enumerate(lowered):
        if low in _DATA_NOUNS:
            # "the COCO and LVIS datasets", "the more challenging MIMIR benchmark"
            names = _names_before(tokens, i)
            if names and tokens[i][:1].isupper() and len(names) == 1:
                names = [f"{names[0]} {tokens[i]}"]  # "the Massive Text Embedding Benchmark"
            yield from names
            yield from _appositive(tokens, lowered, i)
            if i + 2 < len(tokens) and lowered[i + 1] in ("named", "called", "dubbed"):
                yield tokens[i + 2]
        if low in _LIST_NOUNS and i + 1 < len(tokens) and is_name_like(tokens[i + 1]):
            yield from _names_after(tokens, i + 1, coined=True)  # "tasks BoolQ, SST2"
        elif low in _LIST_CUES and any(w in _LIST_NOUNS for w in lowered[max(0, i - 6):i]):
            yield from _names_after(tokens, i + 1, coined=False)
        elif evaluation and low in ("on", "across", "over"):
            start = i + 2 if i + 1 < len(tokens) and lowered[i + 1] == "the" else i + 1
            yield from _names_after(tokens, start, coined=True)
        elif (i + 1 < len(tokens) and lowered[i + 1] in _TASK_HEADS and i > 0
              and lowered[i - 1] in ("on", "for", "of", "in") and is_name_like(tokens[i])):
            yield tokens[i]  # "for ImageNet classification"


def _names_before(tokens: Sequence[str], end: int) -> list[str]:
    """Capitalised or coined names (up to three words each) right before `tokens[end]`."""
    items: list[list[str]] = [[]]
    j = end - 1
    while j >= 0:
        token = tokens[j]
        if token.lower() in _SEPARATORS and items[-1]:
            items.append([])
        elif _capital(token) and token.lower() not in _LEADING and len(items[-1]) < 3:
            if j == 0 and not is_name_like(token):
                break  # "However, these datasets": a sentence's first word is not a name
            items[-1].insert(0, token)
        else:
            break
        j -= 1
    return [" ".join(words) for words in items if words]


def _names_after(tokens: Sequence[str], start: int, *, coined: bool) -> list[str]:
    """A list of names from `tokens[start]`: "CIFAR, SUN, and ImageNet-O"."""
    items: list[str] = []
    current: list[str] = []
    j = start
    while j < len(tokens):
        token = tokens[j]
        if token.lower() in _SEPARATORS:
            if current:
                items.append(" ".join(current))
            current = []
        elif (is_name_like(token) if coined else _capital(token)) and len(current) < 3:
            current.append(token)
        else:
            break
        j += 1
    if current:
        items.append(" ".join(current))
        if j < len(tokens) and tokens[j].lower() in _MODEL_NOUNS:
            return []  # "on LLaMA and Qwen models": models, not data
    return items


def _appositive(tokens: Sequence[str], lowered: Sequence[str], noun: int) -> list[str]:
    """"SPIRAL, a 1,012-sample benchmark": the name before ", a ... <noun>"."""
    for j in range(noun - 1, max(noun - 8, 1), -1):
        if lowered[j] in ("a", "an", "the") and tokens[j - 1] == "," and j >= 2:
            name = tokens[j - 2]
            return [name] if is_name_like(name) or (name[:1].isupper() and j - 2 > 0) else []
        if tokens[j] in ",;:()":
            break
    return []


def _split_list(text: str) -> list[str]:
    parts = re.split(r"\s*,\s*(?:and\s+|or\s+)?|\s+and\s+|\s+or\s+|\s*/\s*", text)
    return [p.strip(" {}") for p in parts if p.strip(" {}")]


def _capital(word: str) -> bool:
    return word[:1].isupper() or word[:1].isdigit() or is_name_like(word)


def _is_data_name(item: str, skip: set[str]) -> bool:
    words = item.split()
    if not words or len(words) > 4 or len(item) > 40:
        return False
    lowered = item.lower()
    if lowered in skip or lowered in _NOT_DATA or lowered in _LEADING or is_generic(item):
        return False
    head = words[0].lower().split("-")[0]
    if (head in _NOT_DATA and len(words) == 1) or _MODEL_PREFIX.match(item):
        return False
    if len(words) == 1 and not is_name_like(item) and not item[:1].isupper():
        return False
    return not _is_task_phrase(item)


# --- tasks --------------------------------------------------------------------------------


def find_tasks(
    title: str, sentences: Sequence[str], *, spans: Iterable[Span] = (), limit: int = 8
) -> list[str]:
    """Task phrases, most salient first: title, acronym definitions, then repeated phrases.

    A tagger's TASK `spans` count like a rule's phrase when they end in a task word.
    """
    scored: dict[str, tuple[float, int, str]] = {}
    order = 0

    def add(phrase: str, score: float) -> None:
        nonlocal order
        phrase = phrase.strip(" ,;:.-")
        key = phrase.lower()
        if len(key) < 4 or len(phrase.split()) > 6 or _generic_task(key):
            return
        old = scored.get(key)
        scored[key] = ((old[0] if old else 0.0) + score, old[1] if old else order,
                       old[2] if old else phrase)
        order += 1

    subtitle = title.rpartition(":")[2]  # "ProtoDepth: Unsupervised ...": not the name
    for match in _TITLE_FOR.finditer(subtitle):
        if _is_task_phrase(match.group(1)):
            add(_trim_task(match.group(1).split()), 3.0)
    for phrase in _task_phrases(subtitle):
        add(phrase, 3.0)
    for long_form in defined_acronyms(sentences).values():
        if _is_task_phrase(long_form):
            add(_trim_task(long_form.split()), 2.0)
    for sentence in sentences:
        for match in _TASK_LIST.finditer(sentence):
            for item in _split_list(re.split(r"[;:)(]|\.\s|\.$", sentence[match.end():])[0]):
                if 1 <= len(item.split()) <= 3 and item[:1].islower():
                    add(item, 2.0)
        for phrase in _task_phrases(sentence):
            add(phrase, 1.0)
    for span in spans:
        text = span.text.strip(" ,;:.")
        if span.label == "TASK" and not set(text) & set("()[],;") and _is_task_phrase(text):
            add(_trim_task(text.split()), 1.0)
    chosen = [(v[0], -v[1], v[2]) for v in scored.values() if v[0] >= 2.0]
    chosen.sort(reverse=True)
    return _drop_contained([phrase for _, _, phrase in chosen])[:limit]


# Learning paradigms, training recipes and whole fields end in task words ("learning",
# "recognition", "generation") but say what a paper uses or belongs to, not what it solves:
# over the 75k corpus they were the most frequent "tasks" (reinforcement learning on 1,527
# papers, fine-tuning 1,120, deep learning 701; "pattern recognition" from the cs.CV name).
_GENERIC_TASKS = frozenset((
    "reinforcement learning", "deep reinforcement learning", "deep learning", "machine learning",
    "fine-tuning", "fine tuning", "supervised fine-tuning", "parameter-efficient fine-tuning",
    "instruction tuning", "low-rank adaptation", "in-context learning", "knowledge distillation",
    "contrastive learning", "self-supervised learning", "supervised learning",
    "unsupervised learning", "representation learning", "pattern recognition",
    "computer vision", "natural language processing", "retrieval-augmented generation",
    "artificial intelligence", "training", "inference", "learning", "generation", "detection",
    "segmentation", "classification", "retrieval", "reasoning", "recognition", "prediction",
    "estimation", "understanding", "planning", "optimization",
))


def _generic_task(key: str) -> bool:
    return " ".join(key.split()) in _GENERIC_TASKS


def _task_phrases(text: str) -> Iterator[str]:
    words = re.findall(r"[\w][\w'-]*", text)
    for i, word in enumerate(words):
        if word.lower() not in _TASK_HEADS:
            continue
        phrase = _trim_task(words[max(0, i - 4):i + 1])
        if len(phrase.split()) >= 2 or "-" in phrase:
            yield phrase


def _trim_task(words: Sequence[str]) -> str:
    """The modifiers right before the head word, stopping at a function word or verb."""
    kept: list[str] = [words[-1]]
    for word in reversed(words[:-1]):
        lowered = word.lower()
        if lowered in _TASK_STOP or lowered.isdigit():
            break
        if lowered.endswith("ing") and lowered not in _ING_OK:
            break
        if lowered.endswith(("ly", "ed")) and not word[:1].isupper():
            break
        kept.append(word)
    return " ".join(reversed(kept))


def _is_task_phrase(phrase: str) -> bool:
    words = phrase.lower().replace("-", " ").split()
    return bool(words) and (words[-1] in _TASK_HEADS or phrase.lower().split()[-1]
                            in _TASK_HEADS)


def _drop_contained(phrases: list[str]) -> list[str]:
    """Keep "multi-view object detection", drop "object detection"."""
    lowered = [p.lower() for p in phrases]
    kept: list[str] = []
    for phrase, low in zip(phrases, lowered, strict=True):
        if any(low != other and other.endswith(" " + low) for other in lowered):
            continue
        kept.append(phrase)
    return kept


def _unique(items: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for item in items:
        key = item.lower()
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out
