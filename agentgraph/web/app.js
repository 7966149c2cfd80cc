// agentgraph playground: talk to a graph, watch it, approve its tools, edit it live.
// One websocket per conversation (see agentgraph/transports/browser.py for the frames).
"use strict";

const $ = (id) => document.getElementById(id);
// State the tests and the benchmark read (window.ag); nothing else depends on it.
const ag = (window.ag = {
  ready: false, ended: false, peak: 0, playing: false, stops: 0, played: 0,
  activeAgent: "", micOn: false, lastLoud: null, mouthToEar: [], loadedAt: performance.now(),
  // the page's own part of the latency, ms: microphone block -> websocket, and first agent
  // audio frame received -> its first sample output (both on one clock)
  captureDelay: [], playDelay: [],
});
let ws = null;
let ctx = null, capture = null, playback = null, analyser = null, micStream = null;
let gen = 0, ptt = false, pttDown = false, manualTurns = false, pendingAgent = null;
let firstPlayOfReply = true;
let replyReceivedAt = null;
// AudioContext time -> performance.now() time
const perfTime = (t) => { const ts = ctx.getOutputTimestamp(); return ts.performanceTime + (t - ts.contextTime) * 1000; };

function li(cls, parts) {
  const item = document.createElement("li");
  item.className = cls;
  for (const [c, text] of parts) {
    const span = document.createElement("span");
    if (c) span.className = c;
    span.textContent = text;
    item.appendChild(span);
  }
  const log = $("log");
  log.appendChild(item);
  log.scrollTop = log.scrollHeight;
  return item;
}
const note = (text, cls = "note") => li(cls, [["", text]]);

function call(name, args) {
  let parsed = args;
  try { parsed = typeof args === "string" && args.trim() ? JSON.parse(args) : args || {}; } catch (e) { return `${name}(${args})`; }
  if (typeof parsed !== "object" || parsed === null) return `${name}(${JSON.stringify(parsed)})`;
  return `${name}(${Object.entries(parsed).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ")})`;
}

function setActive(name) {
  if (!name) return;
  ag.activeAgent = name;
  for (const node of document.querySelectorAll("#graph .agent")) {
    node.classList.toggle("active", node.dataset.agent === name);
  }
}

function setStatus(text, live) {
  $("status").textContent = text;
  $("status").classList.toggle("live", !!live);
}

function showGraph(m) {
  $("graph-name").textContent = m.name;
  $("graph").innerHTML = m.svg;
  setActive(ag.activeAgent || m.start);
}

// ---------------------------------------------------------------- editor
function gutter(bad) {
  const lines = $("yaml").value.split("\n").length;
  const g = $("gutter");
  g.textContent = "";
  for (let i = 1; i <= lines; i++) {
    const s = document.createElement("span");
    s.textContent = i + "\n";
    s.dataset.line = i;
    if (bad && bad.has(i)) s.className = "bad";
    g.appendChild(s);
  }
}
$("yaml").addEventListener("input", () => gutter());
$("yaml").addEventListener("scroll", () => { $("gutter").scrollTop = $("yaml").scrollTop; });
$("yaml").addEventListener("keydown", (e) => {
  if ((e.ctrlKey || e.metaKey) && e.key === "s") { e.preventDefault(); save(); }
  if (e.key === "Tab") { e.preventDefault(); document.execCommand("insertText", false, "  "); }
});
function save() {
  if (ws && ws.readyState === 1) ws.send(JSON.stringify({ type: "save", text: $("yaml").value }));
}
$("save").onclick = save;

function showFindings(m) {
  const list = $("findings");
  list.textContent = "";
  const bad = new Set();
  if (!m.findings.length) {
    const item = document.createElement("li");
    item.className = "ok";
    item.textContent = m.applied ? "saved: valid, reloaded" : "saved: valid";
    list.appendChild(item);
  }
  for (const f of m.findings) {
    const item = document.createElement("li");
    item.className = f.severity;
    if (f.line) { item.dataset.line = f.line; bad.add(f.line); }
    item.textContent = `${f.line ? "line " + f.line + ":" + f.column + ": " : ""}${f.severity} ${f.code}: ${f.message}`;
    for (const h of f.hints) {
      const hint = document.createElement("span");
      hint.className = "hint";
      hint.textContent = "hint: " + h;
      item.appendChild(hint);
    }
    item.onclick = () => jumpTo(f.line);
    list.appendChild(item);
  }
  gutter(bad);
}
function jumpTo(line) {
  if (!line) return;
  const area = $("yaml");
  const lines = area.value.split("\n");
  let pos = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i++) pos += lines[i].length + 1;
  area.focus();
  area.setSelectionRange(pos, pos + (lines[line - 1] || "").length);
}

// ---------------------------------------------------------------- approvals
function showApproval(m) {
  const box = document.createElement("div");
  box.className = "approval";
  box.dataset.callId = m.call_id;
  const msg = document.createElement("div");
  msg.className = "msg";
  msg.textContent = m.message || `Approve ${call(m.tool_name, m.arguments)}?`;
  const what = document.createElement("div");
  what.textContent = call(m.tool_name, m.arguments);
  const yes = document.createElement("button");
  yes.textContent = "Approve";
  yes.className = "approve";
  const no = document.createElement("button");
  no.textContent = "Deny";
  no.className = "deny";
  const answer = (approved) => {
    ws.send(JSON.stringify({ type: "approval", call_id: m.call_id, approved }));
    box.remove();
  };
  yes.onclick = () => answer(true);
  no.onclick = () => answer(false);
  box.append(msg, what, yes, no);
  $("approvals").appendChild(box);
}

// ---------------------------------------------------------------- audio
async function startAudio() {
  if (ctx) return;
  ctx = new AudioContext({ sampleRate: 24000, latencyHint: "interactive" });
  await ctx.audioWorklet.addModule("/assets/capture-worklet.js");
  await ctx.audioWorklet.addModule("/assets/playback-worklet.js");
  playback = new AudioWorkletNode(ctx, "agentgraph-playback", { outputChannelCount: [1] });
  analyser = ctx.createAnalyser();
  analyser.fftSize = 512;
  playback.connect(analyser);
  analyser.connect(ctx.destination);
  playback.port.onmessage = (e) => {
    const m = e.data;
    if (m.started) {
      ag.playing = true;
      if (replyReceivedAt !== null) ag.playDelay.push(perfTime(m.at) - replyReceivedAt);
      replyReceivedAt = null;
      if (firstPlayOfReply && ag.lastLoud !== null) {
        ag.mouthToEar.push((m.at - ag.lastLoud) * 1000);
      }
      firstPlayOfReply = false;
    }
    if (m.idle) ag.playing = false;
    if (m.played) {
      ag.played += m.played;
      if (ws && ws.readyState === 1) ws.send(JSON.stringify({ type: "played", samples: m.played, gen: m.gen }));
    }
  };
  const level = new Float32Array(analyser.fftSize);
  const meter = () => {
    analyser.getFloatTimeDomainData(level);
    let sum = 0;
    for (const v of level) sum += v * v;
    const rms = Math.sqrt(sum / level.length);
    if (rms > ag.peak) ag.peak = rms;
    ag.level = rms;
    requestAnimationFrame(meter);
  };
  // rAF does not run in a hidden tab: sample on a timer as well
  setInterval(() => { analyser.getFloatTimeDomainData(level); let s = 0; for (const v of level) s += v * v; const r = Math.sqrt(s / level.length); if (r > ag.peak) ag.peak = r; ag.level = r; }, 20);
  meter();
}

async function startMic() {
  await startAudio();
  await ctx.resume();
  micStream = await navigator.mediaDevices.getUserMedia({
    // echo cancellation keeps the agent's voice from the speakers out of an open mic;
    // ?aec=0 turns it off (a headset, or measuring what it costs)
    audio: {
      channelCount: 1,
      echoCancellation: new URLSearchParams(location.search).get("aec") !== "0",
      noiseSuppression: false,
      autoGainControl: false,
    },
  });
  const source = ctx.createMediaStreamSource(micStream);
  capture = new AudioWorkletNode(ctx, "agentgraph-capture", { numberOfInputs: 1, numberOfOutputs: 0 });
  source.connect(capture);
  const silence = new Int16Array(480).buffer;
  capture.port.onmessage = (e) => {
    const { pcm, rms, loudAt } = e.data;
    ag.micLevel = rms;
    if (loudAt >= 0 && (!ptt || pttDown)) { ag.lastLoud = loudAt; firstPlayOfReply = true; }
    if (!ws || ws.readyState !== 1) return;
    if (!ptt || pttDown) {
      ws.send(pcm);
      if (ag.captureDelay.length < 2000) ag.captureDelay.push(performance.now() - perfTime(e.data.end));
    }
    // push to talk, button up: with turn detection, silence (so it ends the turn); without,
    // nothing (the release committed the turn)
    else if (!manualTurns) ws.send(silence);
  };
  ag.micOn = true;
  ag.outputLatency = (ctx.baseLatency || 0) + (ctx.outputLatency || 0);
  $("mic").textContent = "Microphone on";
  $("mic").classList.add("on");
  $("mic").disabled = true;
}

function enqueueAudio(buffer) {
  if (!playback) return;
  if (!ag.playing && replyReceivedAt === null) replyReceivedAt = performance.now();
  const pcm = new Int16Array(buffer);
  const chunk = new Float32Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) chunk[i] = pcm[i] / 32768;
  playback.port.postMessage({ chunk }, [chunk.buffer]);
}

// ---------------------------------------------------------------- conversation
function onMessage(m) {
  switch (m.type) {
    case "hello":
      ag.helloAt = performance.now();
      showGraph(m);
      $("file-name").textContent = m.file;
      $("yaml").value = m.yaml;
      manualTurns = m.manual_turns;
      gutter();
      break;
    case "graph":
      showGraph(m);
      break;
    case "ready":
      ag.ready = true;
      ag.readyAt = performance.now();
      setStatus(m.backend, true);
      for (const id of ["mic", "hangup", "text", "send", "save", "ptt"]) $(id).disabled = false;
      if (ag.micOn) $("mic").disabled = true;
      break;
    case "audio_item":
      gen = m.gen;
      break;
    case "audio_done":
      if (playback) playback.port.postMessage({ done: true });
      break;
    case "stop":
      gen = m.gen;
      ag.stops += 1;
      ag.playing = false;
      if (playback) playback.port.postMessage({ stop: m.gen });
      break;
    case "caller":
      li("caller", [["who", "you"], ["", ": " + m.text]]);
      break;
    case "agent": {
      const line = li("agent", [["who", m.agent || "agent"], ["", ": " + m.text]]);
      if (pendingAgent !== null) {
        const lat = document.createElement("span");
        lat.className = "lat";
        lat.textContent = `   [${Math.round(pendingAgent)} ms]`;
        line.appendChild(lat);
        pendingAgent = null;
      }
      break;
    }
    case "speech":
      if (ctx) ag[m.state === "started" ? "speechStartedAt" : "speechStoppedAt"] = ctx.currentTime;
      break;
    case "latency":
      pendingAgent = m.latency_ms;
      break;
    case "tool_start":
      note(`  -> ${call(m.tool_name, m.arguments)}`, "note tool-start");
      break;
    case "tool_end":
      note(`  ${m.ok === false ? "<- failed" : "<-"} ${m.tool_name}: ${m.output}`, "note tool-end");
      break;
    case "approval":
      note(`  ? approval needed: ${call(m.tool_name, m.arguments)}`);
      showApproval(m);
      break;
    case "approval_closed": {
      const box = document.querySelector(`#approvals .approval[data-call-id="${CSS.escape(m.call_id)}"]`);
      if (box) box.remove();
      note(`  ${m.approved ? "approved" : "denied"}: ${m.tool_name}${m.reason ? " (" + m.reason + ")" : ""}`);
      break;
    }
    case "handoff":
      note(`  => handoff: ${m.from_agent} -> ${m.to_agent}`, "note handoff");
      setActive(m.to_agent);
      break;
    case "agent_start":
      setActive(m.agent);
      break;
    case "guardrail":
      note(`  ! guardrail ${m.guardrail_name} tripped: ${m.message}`, "error");
      break;
    case "interrupted":
      note(`  ~ interrupted: the caller heard ${(m.heard_ms / 1000).toFixed(2)} s of that reply`);
      break;
    case "error":
      note(`  error: ${m.message}`, "error");
      break;
    case "note":
      note(m.text);
      break;
    case "findings":
      showFindings(m);
      break;
    case "ended":
      ended(m);
      break;
  }
}

function ended(m) {
  ag.ended = true;
  setStatus("conversation ended");
  const item = note("conversation ended");
  if (m.report) {
    const a = document.createElement("a");
    a.href = m.report;
    a.target = "_blank";
    a.id = "report-link";
    a.textContent = " — open the report";
    item.appendChild(a);
  }
  for (const id of ["mic", "hangup", "text", "send", "save", "ptt"]) $(id).disabled = true;
  $("again").hidden = false;
}

function connect() {
  ag.ready = false;
  ag.ended = false;
  ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`);
  ws.binaryType = "arraybuffer";
  ws.onopen = () => { ag.openAt = performance.now(); };
  ws.onmessage = (e) => {
    if (typeof e.data === "string") onMessage(JSON.parse(e.data));
    else enqueueAudio(e.data);
  };
  ws.onclose = () => { if (!ag.ended) ended({}); };
}

$("mic").onclick = () => startMic().catch((err) => note("microphone: " + err.message, "error"));
$("hangup").onclick = () => ws && ws.send(JSON.stringify({ type: "hangup" }));
$("again").onclick = () => {
  $("again").hidden = true;
  $("log").textContent = "";
  connect();
};
$("say").onsubmit = async (e) => {
  e.preventDefault();
  const text = $("text").value.trim();
  if (!text || !ws) return;
  await startAudio();
  await ctx.resume();
  ws.send(JSON.stringify({ type: "text", text }));
  $("text").value = "";
};
for (const radio of document.querySelectorAll("input[name=mode]")) {
  radio.onchange = () => {
    ptt = radio.value === "ptt" && radio.checked;
    $("ptt").hidden = !ptt;
  };
}
const pttPress = async () => { pttDown = true; $("ptt").classList.add("on"); if (!ag.micOn) await startMic(); };
const pttRelease = () => {
  if (!pttDown) return;
  pttDown = false;
  $("ptt").classList.remove("on");
  if (manualTurns && ws) ws.send(JSON.stringify({ type: "commit" }));
};
$("ptt").onpointerdown = pttPress;
$("ptt").onpointerup = pttRelease;
$("ptt").onpointerleave = pttRelease;
connect();
