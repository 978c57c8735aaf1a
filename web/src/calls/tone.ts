/** The ring (incoming) and ring-back (outgoing) tones, synthesised: no audio files to ship. */

let ctx: AudioContext | null = null;
let timer: ReturnType<typeof setInterval> | undefined;

/** One burst: two sine tones for `ms` milliseconds. */
function burst(freqs: number[], ms: number): void {
  if (!ctx) return;
  const gain = ctx.createGain();
  gain.gain.value = 0.08;
  gain.connect(ctx.destination);
  for (const f of freqs) {
    const osc = ctx.createOscillator();
    osc.frequency.value = f;
    osc.connect(gain);
    osc.start();
    osc.stop(ctx.currentTime + ms / 1000);
  }
}

export function startTone(kind: 'ring' | 'ringback'): void {
  stopTone();
  try {
    ctx = new AudioContext();
  } catch {
    return;
  }
  // A tab that was never touched may not play sound (autoplay rules): then it is silent.
  void ctx.resume().catch(() => undefined);
  const play = kind === 'ring' ? () => burst([440, 480], 1500) : () => burst([425], 1000);
  play();
  timer = setInterval(play, kind === 'ring' ? 3000 : 4000);
}

export function stopTone(): void {
  clearInterval(timer);
  timer = undefined;
  void ctx?.close().catch(() => undefined);
  ctx = null;
}
