#!/usr/bin/env bash
# Set up a fresh machine: Debian packages (PortAudio, SIPp, baresip, espeak-ng, sox) and a
# virtualenv in .venv with agentgraph, its offline engine and the demo plugin.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=$(grep -v '^#' .ci/apt-packages.txt | xargs)
missing=$(for p in $packages; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
if [ -n "$missing" ]; then
  sudo_cmd=""
  [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  echo "setup: installing Debian packages:" $missing
  $sudo_cmd apt-get update -qq
  # Packages such as kamailio start a system service on install (port 5060); tests run
  # their own instances, so keep services from starting while we install.
  made_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo_cmd tee /usr/sbin/policy-rc.d >/dev/null
    $sudo_cmd chmod +x /usr/sbin/policy-rc.d
    made_policy=1
  fi
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends $missing >/dev/null
  [ -z "$made_policy" ] || $sudo_cmd rm -f /usr/sbin/policy-rc.d
fi
# A kamailio system service (if one was ever started) would hold 5060: stop and disable it.
if command -v systemctl >/dev/null 2>&1 && systemctl is-enabled kamailio >/dev/null 2>&1; then
  sudo_cmd=""
  [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd systemctl disable --now kamailio >/dev/null 2>&1 || true
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
# Some machines' pip configs name local package folders that don't exist; pip warns about
# each one on every install. Those lines say nothing about us, so they are filtered out.
quiet_pip() { .venv/bin/python -m pip "$@" 2> >(grep -v "^WARNING: Location '" >&2); }
quiet_pip install -q --upgrade pip >/dev/null
quiet_pip install -q -e '.[dev]' -e plugins/agentgraph-demo
echo "setup: done. Activate with: . .venv/bin/activate"
