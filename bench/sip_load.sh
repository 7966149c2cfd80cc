#!/usr/bin/env bash
# SIP load benchmark (issue 6): SIPp places N concurrent calls to `agentgraph serve`, each
# streaming a spoken request as u-law RTP in a loop for DURATION_MS; we send RTP back the
# whole time. Reports calls completed/failed (SIPp's and the server's view), RTP packets
# both ways, and the server's RTP send jitter (|interval between a call's packets - 20 ms|,
# measured with the event loop clock at sendto).
#
#   bench/sip_load.sh                      # loopback 50 100, engine 20 50 100
#   MODES="loopback" CALLS="100" bench/sip_load.sh
#   ENGINE=inproc bench/sip_load.sh        # engine inside the serve process (worse jitter)
#   MODES=kamailio WORKERS="1 2 3" CALLS=300 bench/sip_load.sh     # through Kamailio
#   MODES=kamailio WORKERS=3 CALLS=300 DRAIN=1 bench/sip_load.sh   # SIGTERM one mid-run
#   MODES=engine CALLS=35 GRAPH=my_sphinx_graph.yaml bench/sip_load.sh  # another recognizer
#
# Modes: loopback = caller audio echoed (SIP+RTP alone); engine = the embedded engine
# answers with the weather graph (in its own process, as `serve` runs it by default);
# kamailio = Kamailio (deploy/kamailio/kamailio.cfg, our own instance on loopback) in
# front of N loopback workers: SIPp's view, each worker's calls, send jitter p99 and CPU
# (cores used, from /proc) and, with DRAIN=1, worker 1 drained half way (calls dropped).
# "answered" is the server's count of calls where the caller heard agent audio.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
[ -x .venv/bin/python ] && [ -z "${PYTHON:-}" ] && PY=.venv/bin/python
DURATION_MS=${DURATION_MS:-20000}
MODES=${MODES:-"loopback engine"}
ENGINE=${ENGINE:-process}
OUT=${OUT:-$(mktemp -d /tmp/sip_load.XXXXXX)}
SIP_PORT=${SIP_PORT:-25060}
SIPP_PORT=${SIPP_PORT:-25062}
MEDIA_PORT=${MEDIA_PORT:-26000}
command -v sipp >/dev/null || { echo "sip_load: sipp not found (apt install sip-tester)" >&2; exit 2; }

# The caller's request, spoken by the engine's own TTS, as raw u-law with 3 s of quiet.
$PY - "$OUT/caller.ulaw" <<'EOF'
import sys
import numpy as np
from agentgraph.audio import pcm16_to_ulaw, resample_pcm16
from agentgraph.engine.tts import EspeakSynthesizer
voiced = np.frombuffer(EspeakSynthesizer("ash").synthesize_pcm24("What's the weather in Tokyo?"), "<i2")
pcm = np.concatenate([np.zeros(24 * 400), voiced, np.zeros(24 * 3000)])
pcm = pcm + np.random.default_rng(0).normal(0, 60.0, pcm.size)
pcm24 = np.clip(pcm, -32768, 32767).astype("<i2").tobytes()
open(sys.argv[1], "wb").write(pcm16_to_ulaw(resample_pcm16(pcm24, 24000, 8000)))
EOF
sed "s#@CALLER_AUDIO@#$OUT/caller.ulaw#" bench/sip_load.xml > "$OUT/caller.xml"

run_one() {  # mode calls
  local mode=$1 calls=$2 tag="$1-$2"
  local serve_args=(--listen "127.0.0.1:$SIP_PORT" --max-calls $((calls + 10)) --quiet
                    --stats "$OUT/$tag.json" --duration $((DURATION_MS / 1000 + 25)))
  if [ "$mode" = loopback ]; then
    serve_args=(--loopback "${serve_args[@]}")
  else
    serve_args=("${GRAPH:-examples/graphs/weather.yaml}" --provider local "${serve_args[@]}")
    [ "$ENGINE" = inproc ] && serve_args+=(--engine-inproc)
  fi
  $PY -m agentgraph serve "${serve_args[@]}" 2>"$OUT/$tag.serve.log" &
  local serve_pid=$!
  sleep 4
  local start_ns=$(date +%s%N)
  # all calls start within one second (-r calls/s), each lasts DURATION_MS after its ACK
  sipp "127.0.0.1:$SIP_PORT" -sf "$OUT/caller.xml" -i 127.0.0.1 -p "$SIPP_PORT" \
    -mp "$MEDIA_PORT" -s 1000 -m "$calls" -l "$calls" -r "$calls" -rp 1000 \
    -d "$DURATION_MS" -timeout $((DURATION_MS / 1000 + 30))s -nostdin -trace_stat \
    -stf "$OUT/$tag.sipp.csv" -fd 60 -trace_err -error_file "$OUT/$tag.sipp.err" \
    >"$OUT/$tag.sipp.out" 2>&1 || true
  local elapsed=$(( ($(date +%s%N) - start_ns) / 1000000000 ))
  kill -INT "$serve_pid" 2>/dev/null || true
  wait "$serve_pid" 2>/dev/null || true
  $PY - "$OUT/$tag.json" "$OUT/$tag.sipp.csv" "$mode" "$calls" "$elapsed" <<'EOF'
import csv, json, sys
stats = json.load(open(sys.argv[1]))
rows = list(csv.DictReader(open(sys.argv[2]), delimiter=";"))
last = rows[-1] if rows else {}
ok, failed = last.get("SuccessfulCall(C)", "?"), last.get("FailedCall(C)", "?")
mode, calls, elapsed = sys.argv[3], sys.argv[4], float(sys.argv[5])
j = stats["rtp_send_jitter_ms"]
line = (f"{mode:8} {calls:>4} calls: sipp ok={ok} failed={failed} | server completed="
        f"{stats['calls_completed']} failed={stats['calls_failed']} | rtp sent="
        f"{stats['rtp_packets_sent']} recv={stats['rtp_packets_received']} | send jitter ms "
        f"p50={j['p50']} p99={j['p99']} max={j['max']}")
if mode != "loopback":
    line += (f" | answered (tool called)={stats['calls_with_tool_call']}/{calls}"
             f" tool calls={stats['tool_calls']} calls with agent audio="
             f"{stats['calls_with_agent_audio']} callers who heard agent audio="
             f"{stats.get('calls_answered', '?')}")
print(line + f" | {elapsed:.0f} s")
EOF
}

cpu_ticks() {  # utime+stime of a pid, in clock ticks
  awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0
}

run_cluster() {  # workers calls
  local workers=$1 calls=$2 tag="kamailio-$1w-$2" i
  command -v kamailio >/dev/null || [ -x /usr/sbin/kamailio ] || {
    echo "sip_load: kamailio not found (apt install kamailio)" >&2; return; }
  local kam; kam=$(command -v kamailio || echo /usr/sbin/kamailio)
  local pids=() ticks=() list="$OUT/$tag.dispatcher.list"
  : >"$list"
  for ((i = 1; i <= workers; i++)); do
    local wport=$((SIP_PORT + 10 + i))
    echo "1 sip:127.0.0.1:$wport" >>"$list"
    $PY -m agentgraph serve --loopback --listen "127.0.0.1:$wport" --quiet \
      --max-calls $((calls + 10)) --stats "$OUT/$tag.w$i.json" \
      --duration $((DURATION_MS / 1000 + 40)) 2>"$OUT/$tag.w$i.log" &
    pids+=($!)
  done
  mkdir -p "$OUT/$tag.run"
  "$kam" -f deploy/kamailio/kamailio.cfg -A "LISTEN=udp:127.0.0.1:$SIP_PORT" \
    -A "DISPATCHER_LIST=\"$list\"" -A PING_INTERVAL=1 -A FR_TIMER=2000 \
    -DD -E -Y "$OUT/$tag.run" -m 128 -M 16 >"$OUT/$tag.kamailio.log" 2>&1 &
  local kam_pid=$!
  # every worker listening, then two probe rounds so Kamailio sees them all active
  for ((i = 1; i <= workers; i++)); do
    for _ in $(seq 60); do grep -q "SIP on udp" "$OUT/$tag.w$i.log" && break; sleep 0.5; done
  done
  sleep 3
  for pid in "${pids[@]}"; do ticks+=("$(cpu_ticks "$pid")"); done
  local start_ns=$(date +%s%N)
  if [ "${DRAIN:-0}" = 1 ]; then
    ( sleep $((DURATION_MS / 2000)); kill -TERM "${pids[0]}" 2>/dev/null ) &
  fi
  # calls arrive over about 5 s, each lasts DURATION_MS after its ACK
  sipp "127.0.0.1:$SIP_PORT" -sf "$OUT/caller.xml" -i 127.0.0.1 -p "$SIPP_PORT" \
    -mp "$MEDIA_PORT" -s 1000 -m "$calls" -l "$calls" -r $(( (calls + 4) / 5 )) -rp 1000 \
    -d "$DURATION_MS" -timeout $((DURATION_MS / 1000 + 40))s -nostdin -trace_stat \
    -stf "$OUT/$tag.sipp.csv" -fd 60 -trace_err -error_file "$OUT/$tag.sipp.err" \
    >"$OUT/$tag.sipp.out" 2>&1 || true
  local elapsed_ns=$(( $(date +%s%N) - start_ns ))
  local cpu=()
  for ((i = 0; i < workers; i++)); do
    cpu+=("$(( $(cpu_ticks "${pids[$i]}") - ${ticks[$i]} ))")
  done
  for pid in "${pids[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  kill -TERM "$kam_pid" 2>/dev/null || true
  wait "$kam_pid" 2>/dev/null || true
  $PY - "$OUT" "$tag" "$workers" "$calls" "$elapsed_ns" "$(getconf CLK_TCK)" "${cpu[@]}" <<'EOF'
import csv, json, sys
out, tag, workers, calls, elapsed_ns, hz = sys.argv[1:7]
cpu = [int(t) for t in sys.argv[7:]]
elapsed = int(elapsed_ns) / 1e9
rows = list(csv.DictReader(open(f"{out}/{tag}.sipp.csv"), delimiter=";"))
last = rows[-1] if rows else {}
ok, failed = last.get("SuccessfulCall(C)", "?"), last.get("FailedCall(C)", "?")
parts = []
for i in range(int(workers)):
    try:
        s = json.load(open(f"{out}/{tag}.w{i + 1}.json"))
    except OSError:
        parts.append(f"w{i + 1}: no stats")
        continue
    cores = cpu[i] / int(hz) / elapsed if i < len(cpu) else 0.0
    parts.append(
        f"w{i + 1}: calls={s['calls_completed']} failed={s['calls_failed']} "
        f"answered={s.get('calls_answered', '?')} refused={s.get('calls_refused', {})} "
        f"p99={s['rtp_send_jitter_ms']['p99']}ms cpu={cores:.2f} cores"
    )
print(f"kamailio {workers} workers {calls:>4} calls: sipp ok={ok} failed={failed} | "
      + " | ".join(parts) + f" | {elapsed:.0f} s")
EOF
}

echo "sip_load: results in $OUT (duration ${DURATION_MS} ms per call, engine $ENGINE)"
for mode in $MODES; do
  if [ "$mode" = kamailio ]; then
    for w in ${WORKERS:-"1 2 3"}; do
      for n in ${CALLS:-300}; do run_cluster "$w" "$n"; done
    done
    continue
  fi
  if [ "$mode" = loopback ]; then counts=${CALLS:-"50 100"}; else counts=${CALLS:-"20 50 100"}; fi
  for n in $counts; do run_one "$mode" "$n"; done
done
