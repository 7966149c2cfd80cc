// Microphone -> 20 ms blocks of PCM16 at the context's rate (24 kHz), with each block's level
// and the context time of its last loud sample (for the mouth-to-ear figure).
const LOUD = 500 / 32768;
class CaptureProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.block = new Int16Array(480);
    this.fill = 0;
    this.sumSq = 0;
    this.loudAt = -1;
  }
  process(inputs) {
    const input = inputs[0] && inputs[0][0];
    if (!input) return true;
    for (let i = 0; i < input.length; i++) {
      const s = Math.max(-1, Math.min(1, input[i]));
      if (s > LOUD || s < -LOUD) this.loudAt = currentTime + i / sampleRate;
      this.block[this.fill++] = s < 0 ? s * 0x8000 : s * 0x7fff;
      this.sumSq += s * s;
      if (this.fill === this.block.length) {
        const rms = Math.sqrt(this.sumSq / this.block.length);
        const end = currentTime + (i + 1) / sampleRate; // when the block's last sample was taken
        this.port.postMessage({ pcm: this.block.buffer, rms, loudAt: this.loudAt, end }, [this.block.buffer]);
        this.loudAt = -1;
        this.block = new Int16Array(480);
        this.fill = 0;
        this.sumSq = 0;
      }
    }
    return true;
  }
}
registerProcessor("agentgraph-capture", CaptureProcessor);
