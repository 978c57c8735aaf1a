/**
 * Recording a voice message: the microphone through MediaRecorder (Opus in WebM, or AAC in
 * MP4 on Safari), with the level sampled every 100 ms for the waveform.
 */
export interface Recording {
  blob: Blob;
  durationMs: number;
  /** Levels 0..255, at most 100 of them. */
  waveform: number[];
  name: string;
}

export interface Recorder {
  /** Elapsed milliseconds and the latest level (0..1), for the live display. */
  onTick: (fn: (ms: number, level: number) => void) => void;
  stop: () => Promise<Recording>;
  cancel: () => void;
}

const TYPES = ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus', 'audio/mp4'];
const WAVE_BARS = 100;

export async function startRecording(): Promise<Recorder> {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true } });
  const mimeType = TYPES.find((t) => MediaRecorder.isTypeSupported?.(t));
  const rec = new MediaRecorder(stream, mimeType ? { mimeType } : undefined);
  const chunks: Blob[] = [];
  rec.ondataavailable = (e) => e.data.size && chunks.push(e.data);

  const ctx = new AudioContext();
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 1024;
  ctx.createMediaStreamSource(stream).connect(analyser);
  const buf = new Float32Array(analyser.fftSize);
  const levels: number[] = [];
  let tick: ((ms: number, level: number) => void) | null = null;
  const started = performance.now();
  const timer = setInterval(() => {
    analyser.getFloatTimeDomainData(buf);
    let sum = 0;
    for (const v of buf) sum += v * v;
    // RMS on a rough log-like scale: speech sits in the middle of the bar.
    const level = Math.min(1, Math.sqrt(Math.sqrt(sum / buf.length)) * 1.6);
    levels.push(level);
    tick?.(performance.now() - started, level);
  }, 100);

  const release = () => {
    clearInterval(timer);
    for (const t of stream.getTracks()) t.stop();
    void ctx.close().catch(() => undefined);
  };
  rec.start(250);

  return {
    onTick: (fn) => (tick = fn),
    cancel: () => {
      rec.onstop = null;
      if (rec.state !== 'inactive') rec.stop();
      release();
    },
    stop: () =>
      new Promise<Recording>((resolve) => {
        const durationMs = performance.now() - started;
        rec.onstop = () => {
          release();
          const type = rec.mimeType || mimeType || 'audio/webm';
          const ext = type.includes('mp4') ? 'm4a' : type.includes('ogg') ? 'ogg' : 'webm';
          const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
          resolve({
            blob: new Blob(chunks, { type: type.split(';')[0] }),
            durationMs,
            waveform: resample(levels, WAVE_BARS).map((v) => Math.round(v * 255)),
            name: `voice-${stamp}.${ext}`,
          });
        };
        rec.stop();
      }),
  };
}

/** At most `n` levels, each the loudest of the stretch it stands for. */
export function resample(levels: number[], n: number): number[] {
  if (levels.length <= n) return levels.length ? levels : [0];
  return Array.from({ length: n }, (_, i) => {
    const from = Math.floor((i * levels.length) / n);
    const to = Math.floor(((i + 1) * levels.length) / n);
    let max = 0;
    for (let j = from; j < to; j++) max = Math.max(max, levels[j]);
    return max;
  });
}
