"""`agentgraph devices` and the microphone mode's errors, through real PortAudio/ALSA."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.transports.alsa_rig import AlsaRig

REPO = Path(__file__).resolve().parents[2]


def agentgraph(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentgraph", *args],
        cwd=REPO,
        env=env or dict(os.environ),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def no_sound_card(tmp_path: Path) -> dict[str, str]:
    """Environment of a machine whose only (default) ALSA device is a card that is absent."""
    config = tmp_path / "nodev.conf"
    config.write_text("pcm.!default { type hw card 99 }\n")
    return {**os.environ, "ALSA_CONFIG_PATH": str(config)}


def test_devices_lists_the_alsa_file_device(tmp_path: Path) -> None:
    with AlsaRig(tmp_path) as rig:
        result = agentgraph("devices", env=rig.env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any("default" in line and "[default input, default output]" in line for line in lines), (
        result.stdout
    )
    assert any("agentgraph_mic" in line for line in lines)


def test_devices_without_any_device(tmp_path: Path) -> None:
    result = agentgraph("devices", env=no_sound_card(tmp_path))
    assert result.returncode == 0
    assert result.stdout.strip() == "no audio devices found (PortAudio sees none)"


def test_missing_portaudio_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    # sounddevice raises exactly this OSError when libportaudio2 is not installed
    fake = tmp_path / "sounddevice.py"
    fake.write_text("raise OSError('PortAudio library not found')\n")
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{REPO}"}
    result = agentgraph("devices", env=env)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "PortAudio is not installed" in lines[0] and "libportaudio2" in lines[0]


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ((), "no default microphone found: pass --input-device"),
        (("--input-device", "nosuchmic"), "no input device 'nosuchmic'"),
    ],
)
def test_microphone_mode_device_errors(
    tmp_path: Path, flags: tuple[str, ...], expected: str
) -> None:
    env = no_sound_card(tmp_path)
    result = agentgraph("run", "examples/graphs/weather.yaml", "--no-log", *flags, env=env)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert expected in result.stderr
