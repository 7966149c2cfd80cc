// Agent audio out: a queue of Float32 chunks; reports what it really played, and stops at once.
class PlaybackProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.queue = [];
    this.offset = 0;
    this.queued = 0;
    this.gen = 0;
    this.playing = false;
    this.complete = false;
    this.prebuffer = 480; // 20 ms at 24 kHz before a reply starts (loopback or a fast link)
    this.unreported = 0;
    this.port.onmessage = (e) => {
      const m = e.data;
      if (m.chunk) {
        this.queue.push(m.chunk);
        this.queued += m.chunk.length;
        this.complete = false;
      } else if (m.done) {
        this.complete = true;
      } else if (m.stop !== undefined) {
        this.report();
        this.queue = [];
        this.offset = 0;
        this.queued = 0;
        this.playing = false;
        this.gen = m.stop;
      }
    };
  }
  report() {
    if (this.unreported > 0) {
      this.port.postMessage({ played: this.unreported, gen: this.gen, at: currentTime });
      this.unreported = 0;
    }
  }
  process(inputs, outputs) {
    const out = outputs[0][0];
    if (!this.playing && this.queued > 0 && (this.queued >= this.prebuffer || this.complete)) {
      this.playing = true;
      this.port.postMessage({ started: true, gen: this.gen, at: currentTime });
      this.first = true;
    }
    let n = 0;
    if (this.playing) {
      while (n < out.length && this.queue.length) {
        const chunk = this.queue[0];
        const take = Math.min(out.length - n, chunk.length - this.offset);
        out.set(chunk.subarray(this.offset, this.offset + take), n);
        n += take;
        this.offset += take;
        if (this.offset === chunk.length) {
          this.queue.shift();
          this.offset = 0;
        }
      }
      this.queued -= n;
      this.unreported += n;
      if (!this.queue.length) {
        this.playing = false;
        this.port.postMessage({ idle: true });
      }
    }
    for (let i = n; i < out.length; i++) out[i] = 0;
    if (this.first || this.unreported >= 480 || (!this.playing && this.unreported > 0)) {
      this.first = false;
      this.report();
    }
    return true;
  }
}
registerProcessor("agentgraph-playback", PlaybackProcessor);
