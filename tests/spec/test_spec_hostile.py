"""Issue 12, YAML and files: every hostile file ends in a clean AGxxx finding, fast and small.

Regression tests for each attack: a 425-byte alias bomb (3.5 GB, 60 s before), nesting
500-999 deep (RecursionError), `instructions: {file: /dev/zero}` (2.6 GB), a FIFO (hung),
`/etc/shadow` and `/proc/self/environ` as prompt files (loaded), and every `${VAR}` masked
(a port printed as `[redacted]`)."""

from __future__ import annotations

import json
import os
import tracemalloc
from pathlib import Path

import pytest

from agentgraph.spec import validate_file, validate_text
from agentgraph.spec.secrets import is_secret_name, redact_values

HEAD = "version: 1\nname: hostile\n"
BOMB = (
    HEAD
    + 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(
        f"{n}: &{n} [{','.join(['*' + p] * 9)}]\n"
        for p, n in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + "agents: {x: {instructions: hi}}\n"
)


def codes(result: object) -> list[str]:
    return [f.code for f in result.findings]  # type: ignore[attr-defined]


def test_an_alias_bomb_fails_fast_with_little_memory() -> None:
    assert len(BOMB.encode()) < 600
    tracemalloc.start()
    try:
        result = validate_text(BOMB, env={})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert codes(result) == ["AG111"]
    assert "expands to more than" in result.findings[0].message
    assert peak < 50_000_000  # 9**9 strings would be gigabytes


@pytest.mark.parametrize("depth", [100, 500, 999])
def test_deep_nesting_is_a_finding_not_a_recursion_error(depth: int) -> None:
    block = "".join("  " * i + f"k{i}:\n" for i in range(depth)) + "  " * depth + "v\n"
    result = validate_text(HEAD + "agents: {x: {instructions: hi}}\nvariables:\n" + block)
    assert "AG111" in codes(result) or "AG100" in codes(result)
    flow = HEAD + "tools: " + "[" * depth + "]" * depth + "\nagents: {x: {instructions: hi}}\n"
    result = validate_text(flow, env={})
    assert not result.ok and set(codes(result)) <= {"AG100", "AG111"}
    assert all("nested" in f.message for f in result.findings)


def prompt_graph(tmp_path: Path, target: str, extra: str = "") -> Path:
    folder = tmp_path / "graphs"
    folder.mkdir(exist_ok=True)
    graph = folder / "g.yaml"
    graph.write_text(HEAD + extra + f"agents: {{x: {{instructions: {{file: '{target}'}}}}}}\n")
    return graph


@pytest.mark.parametrize(
    "target", ["/etc/shadow", "/proc/self/environ", "/dev/zero", "../outside.md", "/etc/hostname"]
)
def test_prompt_files_outside_the_graph_folder_are_refused(tmp_path: Path, target: str) -> None:
    (tmp_path / "outside.md").write_text("secret plans")
    result = validate_file(prompt_graph(tmp_path, target))
    assert codes(result) == ["AG108"]
    assert "outside the graph's folder" in result.findings[0].message
    assert "prompt_folders" in result.findings[0].format()


def test_a_symlink_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    graph = prompt_graph(tmp_path, "link.md")
    (graph.parent / "link.md").symlink_to("/dev/zero")
    assert codes(validate_file(graph)) == ["AG108"]


def test_a_fifo_prompt_is_refused_without_hanging(tmp_path: Path) -> None:
    graph = prompt_graph(tmp_path, "pipe.md")
    os.mkfifo(graph.parent / "pipe.md")
    result = validate_file(graph)
    assert codes(result) == ["AG108"] and "not a regular file" in result.findings[0].message


def test_an_oversized_prompt_is_refused(tmp_path: Path) -> None:
    graph = prompt_graph(tmp_path, "big.md")
    (graph.parent / "big.md").write_bytes(b"x" * 1_000_001)
    result = validate_file(graph)
    assert codes(result) == ["AG108"] and "larger than 1 MB" in result.findings[0].message


def test_the_graph_may_allow_another_folder(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "p.md").write_text("Be kind.")
    graph = prompt_graph(tmp_path, "../shared/p.md", extra="prompt_folders: [../shared]\n")
    result = validate_file(graph)
    assert result.spec is not None and result.spec.instructions["x"] == "Be kind."


@pytest.mark.parametrize("special", ["/dev/zero", "/dev/null", "fifo", "folder", "big", "binary"])
def test_a_graph_file_that_is_not_a_small_text_file_is_ag001(tmp_path: Path, special: str) -> None:
    path = Path(special)
    if special == "fifo":
        path = tmp_path / "g.yaml"
        os.mkfifo(path)
    elif special == "folder":
        path = tmp_path
    elif special == "big":
        path = tmp_path / "g.yaml"
        path.write_bytes(b"#" * 5_000_001)
    elif special == "binary":
        path = tmp_path / "g.yaml"
        path.write_bytes(b"\xff\xfe\x00")
    result = validate_file(path)
    assert codes(result) == ["AG001"]


def test_only_secret_values_are_redacted() -> None:
    text = (
        HEAD
        + "model: {base_url: 'ws://127.0.0.1:${PORT}/v1', api_key: '${OPENAI}'}\n"
        + "description: '${ACCESS_PIN} ${BOOKING_API_KEY} ${MY_TOKEN} ${SHIPPING}'\n"
        + "agents: {x: {instructions: hi}}\n"
    )
    env = {
        "PORT": "8765",
        "OPENAI": "sk-live-abcdef",  # not named like a secret, but fills api_key
        "ACCESS_PIN": "4321",
        "BOOKING_API_KEY": "bk-123456",
        "MY_TOKEN": "tok-999999",
        "SHIPPING": "express",
    }
    spec = validate_text(text, env=env).spec
    assert spec is not None
    assert spec.redact("ws://127.0.0.1:8765/v1") == "ws://127.0.0.1:8765/v1"
    assert spec.secrets == {"sk-live-abcdef", "4321", "bk-123456", "tok-999999"}
    assert spec.redact("express") == "express"
    assert is_secret_name("OPENAI_API_KEY") and is_secret_name("WEBHOOK_SECRET")
    assert not is_secret_name("PORT") and not is_secret_name("SHIPPING_ZONE")


def test_redact_values_before_serialising_catches_escaped_forms() -> None:
    secret = 'sk-"quoted"\\über'
    record = {"tool": "echo_env", "output": f"value={secret}", "list": [secret, 5]}
    text = json.dumps(redact_values(record, {secret}))
    assert "quoted" not in text and "\\u00fc" not in text and "***" in text
    assert json.loads(text)["list"] == ["***", 5]
