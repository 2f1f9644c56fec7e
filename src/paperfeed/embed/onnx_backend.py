"""The fast embedder: the same MiniLM weights exported to ONNX, optionally int8, on onnxruntime.

Owns exporting a local sentence-transformers model to ONNX (once, into the
cache), dynamic int8 quantisation, and encoding with the model's own fast
tokenizer, length-bucketed batches and the pooling the model's
sentence-transformers config asks for. Importing this module does not import
torch: only a first export does.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from paperfeed.embed.cache import cached_file, model_fingerprint
from paperfeed.embed.types import ProgressCallback
from paperfeed.errors import ModelUnavailableError

if TYPE_CHECKING:
    from tokenizers import Tokenizer


Precision = Literal["fp32", "int8"]
Pooling = Literal["mean", "cls"]

OPSET = 17
# Bump when the export or quantisation recipe changes: it is part of the
# fingerprint, so cached files and indexes built with the old recipe go stale.
RECIPE = "paperfeed-onnx-1"
# Per-channel int8 weights: per-tensor QInt8 lost too much on AVX2 machines
# (mean cosine 0.935 to the fp32 vectors against 0.994 per-channel); see
# docs/decisions/embedding.md.
QUANT = "dynamic-qint8-per-channel"
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")

log = logging.getLogger(__name__)


def usable_cores() -> int:
    """CPU cores this process may run on (the affinity mask, not the machine's total)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def read_pooling(model_dir: Path) -> Pooling:
    """The pooling the model's sentence-transformers config asks for (mean when unconfigured)."""
    config_path = model_dir / "1_Pooling" / "config.json"
    modules_path = model_dir / "modules.json"
    if modules_path.is_file():
        modules = json.loads(modules_path.read_text(encoding="utf-8"))
        for module in modules:
            if module.get("type", "").endswith(".Pooling"):
                config_path = model_dir / module.get("path", "1_Pooling") / "config.json"
    if not config_path.is_file():
        return "mean"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    modes = [key for key, on in config.items() if key.startswith("pooling_mode_") and on]
    if modes == ["pooling_mode_mean_tokens"]:
        return "mean"
    if modes == ["pooling_mode_cls_token"]:
        return "cls"
    raise ModelUnavailableError(
        f"{config_path}: pooling {modes} is not supported by the ONNX backend; use backend='torch'"
    )


def read_max_positions(model_dir: Path) -> int:
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    return int(config.get("max_position_embeddings", 512))


def load_tokenizer(model_dir: Path, max_seq_length: int) -> Tokenizer:
    """The model's fast tokenizer, truncating at `max_seq_length`, not padding.

    The packaged tokenizer.json carries its own truncation (128) and padding
    settings; sentence-transformers overrides them, and so do we.
    """
    from tokenizers import Tokenizer

    if (model_dir / "tokenizer.json").is_file():
        tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    else:  # older checkpoints ship only vocab.txt: let transformers build the fast one
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(str(model_dir), use_fast=True).backend_tokenizer
    tokenizer.enable_truncation(max_length=max_seq_length)
    tokenizer.no_padding()
    return tokenizer


@contextlib.contextmanager
def _quiet_export() -> Iterator[None]:
    """Silences the exporter's and quantiser's advice, which is meant for their developers."""

    class _DropAdvice(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            return "pre-processing before quantization" not in record.getMessage()

    advice = _DropAdvice()
    root = logging.getLogger()
    root.addFilter(advice)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        root.removeFilter(advice)


def export_fp32(model_dir: Path, out: Path) -> None:
    """Exports the transformer (token embeddings out, pooling left to us) to ONNX at `out`.

    Checks the exported graph against PyTorch on a padded batch before returning.
    """
    import onnxruntime as ort
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager")
    model.eval()

    class TokenEmbeddings(torch.nn.Module):
        # Keyword arguments: BertModel.forward's positional order changed in transformers 5.
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(
            self,
            input_ids: torch.Tensor,
            attention_mask: torch.Tensor,
            token_type_ids: torch.Tensor,
        ) -> torch.Tensor:
            out = self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return out.last_hidden_state  # type: ignore[no-any-return]

    # A padded second row, so that tracing records the masked path.
    generator = torch.Generator().manual_seed(0)
    input_ids = torch.randint(1000, 2000, (2, 24), generator=generator)
    attention_mask = torch.ones_like(input_ids)
    attention_mask[1, 9:] = 0
    token_type_ids = torch.zeros_like(input_ids)
    args = (input_ids, attention_mask, token_type_ids)
    axes = {"batch": 0, "sequence": 1}
    dynamic_axes = {name: {i: n for n, i in axes.items()} for name in INPUT_NAMES}
    dynamic_axes["last_hidden_state"] = {0: "batch", 1: "sequence"}
    wrapped = TokenEmbeddings(model)
    with _quiet_export(), torch.no_grad():
        # Computed before exporting: the exporter leaves the module in a state
        # that no longer gives the eager outputs.
        expected = wrapped(*args).numpy()
        # The TorchScript exporter: the dynamo one needs onnxscript, one more dependency.
        torch.onnx.export(
            wrapped,
            args,
            str(out),
            input_names=list(INPUT_NAMES),
            output_names=["last_hidden_state"],
            dynamic_axes=dynamic_axes,
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    got = session.run(None, {n: a.numpy() for n, a in zip(INPUT_NAMES, args, strict=True)})[0]
    mask = attention_mask.numpy().astype(bool)
    if not np.allclose(got[mask], expected[mask], atol=1e-3):
        raise ModelUnavailableError(f"ONNX export of {model_dir} does not match PyTorch")


def quantize_int8(fp32: Path, out: Path) -> None:
    """Dynamic int8 quantisation of every MatMul's weights, per output channel."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with _quiet_export():
        quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QInt8, per_channel=True)


def _slug(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", label.rsplit("/", 1)[-1]).strip("-") or "model"


def onnx_model_file(
    model_dir: Path, cache_dir: Path, precision: Precision, *, label: str | None = None
) -> tuple[Path, str]:
    """The cached ONNX file of `model_dir` at `precision` (built on first use), and its key.

    The int8 file is derived from the fp32 one, which is exported (or reused)
    only when the int8 file itself has to be built.
    """
    try:
        import onnx  # noqa: F401  (the quantiser needs it; fail before any work)
    except ImportError as exc:
        raise ModelUnavailableError(
            "the ONNX backend needs the `onnx` package: `pip install onnx`, or use backend='torch'"
        ) from exc
    stem = _slug(label or model_dir.name)
    base = model_fingerprint(model_dir, [RECIPE, f"opset={OPSET}"])
    info = {"source": str(model_dir), "recipe": RECIPE}

    def fp32_file() -> Path:
        return cached_file(
            cache_dir,
            f"{stem}-{base[:16]}.fp32.onnx",
            base,
            lambda tmp: export_fp32(model_dir, tmp),
            info=info,
        )

    if precision == "fp32":
        return fp32_file(), base
    key = model_fingerprint(model_dir, [RECIPE, f"opset={OPSET}", QUANT])
    int8 = cached_file(
        cache_dir,
        f"{stem}-{base[:16]}.int8.onnx",
        key,
        lambda tmp: quantize_int8(fp32_file(), tmp),
        info={**info, "quantization": QUANT},
    )
    return int8, key


class OnnxEmbedder:
    """Sentence vectors from an ONNX graph of the transformer, on onnxruntime."""

    def __init__(
        self,
        model_dir: Path,
        onnx_file: Path,
        *,
        model_id: str,
        dimension: int,
        max_seq_length: int,
        batch_size: int = 1,
        threads: int | None = None,
        workers: int | None = None,
    ) -> None:
        import onnxruntime as ort

        self.model_id = model_id
        self.dimension = dimension
        self.max_seq_length = max_seq_length
        self.batch_size = batch_size
        # Texts tokenised (and length-sorted) together; see encode.
        self.chunk_size = max(batch_size * 64, 2048)
        self._pooling = read_pooling(model_dir)
        self._tokenizer = load_tokenizer(model_dir, max_seq_length)
        options = ort.SessionOptions()
        threads = threads or usable_cores()
        # `workers` batches run at once on the shared session (Run is thread-safe
        # and releases the GIL), each on threads // workers cores: independent
        # batches scale better than one batch split across cores.
        self.workers = max(1, min(workers or threads, threads))
        options.intra_op_num_threads = max(1, threads // self.workers)
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            self._session = ort.InferenceSession(
                str(onnx_file), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise ModelUnavailableError(f"cannot load ONNX model {onnx_file}: {exc}") from exc
        self._inputs = {i.name for i in self._session.get_inputs()}

    def _run(self, ids: list[list[int]]) -> npt.NDArray[np.float32]:
        width = max(len(row) for row in ids)
        input_ids = np.zeros((len(ids), width), dtype=np.int64)
        mask = np.zeros((len(ids), width), dtype=np.int64)
        for row, tokens in enumerate(ids):
            input_ids[row, : len(tokens)] = tokens
            mask[row, : len(tokens)] = 1
        feed: dict[str, Any] = {"input_ids": input_ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(input_ids)
        hidden = np.asarray(self._session.run(None, feed)[0], dtype=np.float32)
        # Pooling and normalisation as sentence-transformers' Pooling and
        # Normalize modules do them (same clamps), on numpy so torch stays unloaded.
        if self._pooling == "cls":
            pooled = hidden[:, 0]
        else:
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        unit: npt.NDArray[np.float32] = (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)
        return unit

    def encode(
        self, texts: Sequence[str], *, progress: ProgressCallback | None = None
    ) -> npt.NDArray[np.float32]:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        # Tokenised a chunk at a time: a tokenizers Encoding keeps offsets and
        # token strings too, far too much to hold for a whole corpus at once.
        chunk = self.chunk_size
        for first in range(0, len(texts), chunk):
            encodings = self._tokenizer.encode_batch(list(texts[first : first + chunk]))
            # Batches of similar token length waste little on padding; the
            # stable sort and the index array put every vector back in its row.
            order = np.argsort([len(e.ids) for e in encodings], kind="stable")
            batches = [
                order[start : start + self.batch_size]
                for start in range(0, len(order), self.batch_size)
            ]
            ids = [[encodings[i].ids for i in rows] for rows in batches]
            if len(batches) == 1:  # a search query: no thread pool to start and join
                out[first + batches[0]] = self._run(ids[0])
                if progress:
                    progress(len(batches[0]))
                continue
            with ThreadPoolExecutor(self.workers) as pool:
                for rows, vectors in zip(batches, pool.map(self._run, ids), strict=True):
                    out[first + rows] = vectors
                    if progress:
                        progress(len(rows))
        return out
