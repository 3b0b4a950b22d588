"""What Codex rollout items become as text: the user's words among the context Codex
injects, shell commands, tool calls and their outputs (see :mod:`aimem.importers.codex`)."""

from __future__ import annotations

import re
import shlex
from typing import Any

from aimem import jsonio
from aimem.importers.base import compact_json, render_args

_INJECTED_PREFIXES = ("<environment_context>", "# AGENTS.md instructions", "<user_instructions>",
                      "<INSTRUCTIONS>", "<turn_aborted>", "<permissions instructions>",
                      "You are `/root`, the primary agent")
# Any other text that is one <snake_case> (or <two words>) block is context Codex adds.
_INJECTED_BLOCK = re.compile(r"^<([a-z]+(?:[_ ][a-z]+)+)>.*</\1>$", re.S)
_IDE_CONTEXT = "# Context from my IDE setup:"
_IDE_REQUEST = "## My request for Codex:"
_SHELL_INPUT = re.compile(r"^<user_shell_command>(.*?)(?:</user_shell_command>\s*)?$", re.S)
# The header exec tools put before a command's output (shell, exec_command, unified exec).
_EXEC_HEADER = re.compile(
    r"\A(?:(?:Chunk ID|Wall time|Exit code|Process exited with code|Original token count|"
    r"Total output lines|Process running with session ID)\b[^\n]*\n)+Output:[ \t]*\n?")
_EXIT_CODE = re.compile(r"^(?:Exit code:|Process exited with code)\s*(-?\d+)", re.M)


def classify(text: str) -> tuple[str | None, str | None, str]:
    """What a user text part is: ("user", None, prompt), ("system", author, text) or None."""
    s = text.strip()
    if not s or s.startswith(_INJECTED_PREFIXES):
        return None, None, ""
    m = _SHELL_INPUT.match(s)
    if m:
        inner = m.group(1).strip()
        return ("system", "command", inner) if inner else (None, None, "")
    if _INJECTED_BLOCK.match(s):
        return None, None, ""
    if s.startswith(_IDE_CONTEXT):
        _, found, request = s.partition(_IDE_REQUEST)
        s = request.strip() if found else ""
        if not s:
            return None, None, ""
    return "user", None, s


def content_text(content: Any) -> str:
    """The visible text of a message's content parts (input_text / output_text / images)."""
    if isinstance(content, str):
        return content.strip()
    if not isinstance(content, list):
        return ""
    return "\n\n".join(p.strip() for p in _part_texts(content) if p.strip())


def _part_texts(parts: list[Any]) -> list[str]:
    """The text of each content part: strings, ``{"text": …}`` parts, images as ``[image]``."""
    out: list[str] = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        elif isinstance(part, dict):
            if isinstance(part.get("text"), str):
                out.append(part["text"])
            elif part.get("type") in ("input_image", "image"):
                out.append("[image]")
    return out


def render_command(cmd: Any) -> str:
    if isinstance(cmd, str):
        return f"$ {cmd}"
    if isinstance(cmd, list) and all(isinstance(c, str) for c in cmd) and cmd:
        if len(cmd) == 3 and cmd[0] in ("bash", "sh", "zsh", "/bin/bash", "/bin/sh",
                                        "/bin/zsh") and cmd[1] in ("-lc", "-c"):
            return f"$ {cmd[2]}"
        return f"$ {shlex.join(cmd)}"
    return ""


def render_call(name: str, data: Any) -> str:
    """A compact rendering of a function call's arguments (a JSON string, usually)."""
    if isinstance(data, str):
        try:
            parsed = jsonio.loads(data) if data.lstrip().startswith(("{", "[")) else data
        except jsonio.JSONDecodeError:
            parsed = data
    else:
        parsed = data
    if not isinstance(parsed, dict):
        return render_args(name, parsed)
    for key in ("command", "cmd"):
        shown = render_command(parsed.get(key))
        if shown:
            workdir = parsed.get("workdir")
            prefix = f"# in {workdir}\n" if isinstance(workdir, str) and workdir else ""
            return prefix + shown
    if name == "apply_patch" and isinstance(parsed.get("input"), str):
        return parsed["input"].strip() or name
    if name == "update_plan" and isinstance(parsed.get("plan"), list):
        lines = []
        if isinstance(parsed.get("explanation"), str) and parsed["explanation"].strip():
            lines.append(parsed["explanation"].strip())
        for step in parsed["plan"]:
            if isinstance(step, dict):
                lines.append(f"- [{step.get('status', '')}] {step.get('step', '')}".rstrip())
        return "\n".join(lines) or name
    return render_args(name, parsed)


def output_text(output: Any) -> tuple[str, dict[str, Any]]:
    """A tool output's text and small extras (exit code, error flag)."""
    extra: dict[str, Any] = {}
    if isinstance(output, str):
        s = output.strip()
        if s.startswith("{") and '"output"' in s:
            try:
                obj = jsonio.loads(s)
            except jsonio.JSONDecodeError:
                return output, extra
            if isinstance(obj, dict) and isinstance(obj.get("output"), str):
                meta = obj.get("metadata")
                code = meta.get("exit_code") if isinstance(meta, dict) else None
                if isinstance(code, int) and not isinstance(code, bool) and code != 0:
                    extra["exit_code"] = code
                return obj["output"], extra
        header = _EXEC_HEADER.match(output.lstrip())
        if header:
            code = _EXIT_CODE.search(header.group(0))
            if code and int(code.group(1)) != 0:
                extra["exit_code"] = int(code.group(1))
            return output.lstrip()[header.end():], extra
        return output, extra
    if isinstance(output, dict):
        # an object output ({"output", "metadata": {"exit_code"}}, {"content", "success"},
        # {"stdout", "stderr", "exit_code"}) is stored as its text, never as raw JSON
        if output.get("success") is False:
            extra["is_error"] = True
        meta = output.get("metadata") if isinstance(output.get("metadata"), dict) else {}
        code = meta.get("exit_code", output.get("exit_code"))
        if isinstance(code, int) and not isinstance(code, bool) and code != 0:
            extra["exit_code"] = code
        inner = next((output[k] for k in ("output", "content", "text") if output.get(k)
                      is not None), None)
        if inner is not None:
            text, more = output_text(inner)
            return text, {**more, **extra}
        streams = [output[k] for k in ("stdout", "stderr") if isinstance(output.get(k), str)]
        if streams:
            return "\n".join(t.rstrip("\n") for t in streams if t.strip()), extra
        return compact_json(output), extra
    if isinstance(output, list):
        return "\n".join(_part_texts(output)), extra
    return ("" if output is None else compact_json(output)), extra

