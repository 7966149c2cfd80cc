// Microphone -> 20 ms blocks of PCM16 at the context's rate (24 kHz), with each block's level.
class CaptureProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.block = new Int16Array(480);
    this.fill = 0;
    this.sumSq = 0;
  }
  process(inputs) {
    const input = inputs[0] && inputs[0][0];
    if (!input) return true;
    for (let i = 0; i < input.length; i++) {
      const s = Math.max(-1, Math.min(1, input[i]));
      this.block[this.fill++] = s < 0 ? s * 0x8000 : s * 0x7fff;
      this.sumSq += s * s;
      if (this.fill === this.block.length) {
        const rms = Math.sqrt(this.sumSq / this.block.length);
        this.port.postMessage({ pcm: this.block.buffer, rms, end: currentTime }, [this.block.buffer]);
        this.block = new Int16Array(480);
        this.fill = 0;
        this.sumSq = 0;
      }
    }
    return true;
  }
}
registerProcessor("agentgraph-capture", CaptureProcessor);
