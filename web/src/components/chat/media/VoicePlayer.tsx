/**
 * A voice message (or audio file): play / pause, the waveform filling as it plays (click or
 * arrow keys to seek), the time, and the speed (1× → 1.5× → 2×, remembered). When one ends,
 * the next voice message below it in the chat starts.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { useFreshAttachment } from '../../../media/fresh';
import { formatDuration, tm } from '../../../media/i18n';
import { resample } from '../../../media/recorder';
import type { AttachmentOut } from '../../../media/types';
import { MediaIcon } from './icons';

const SPEEDS = [1, 1.5, 2];
const BARS = 40;
let speedPref = Number(localStorage.getItem('ic.voiceSpeed')) || 1;

/** The server's levels (up to 256) as bars; a flat line when there are none. */
function bars(levels: number[] | null | undefined): number[] {
  return levels?.length ? resample(levels, BARS) : Array.from({ length: BARS }, () => 40);
}

export function VoicePlayer({ att }: { att: AttachmentOut }) {
  const [fresh, renew] = useFreshAttachment(att);
  const audio = useRef<HTMLAudioElement>(null);
  const root = useRef<HTMLDivElement>(null);
  const [playing, setPlaying] = useState(false);
  const [pos, setPos] = useState(0);
  const [speed, setSpeed] = useState(speedPref);
  // A voice message whose length the server could not tell (no ffmpeg there) takes the
  // one the browser reads from the file; until then, or if it cannot, none is shown.
  const [fileMs, setFileMs] = useState(0);
  const duration = att.durationMs || fileMs;
  const levels = bars(att.waveform);

  useEffect(() => {
    if (audio.current) audio.current.playbackRate = speed;
  }, [speed, fresh.url]);

  const toggle = () => {
    const a = audio.current;
    if (!a) return;
    if (a.paused) {
      // One voice at a time.
      for (const other of document.querySelectorAll<HTMLAudioElement>('audio.voice-audio')) if (other !== a) other.pause();
      a.playbackRate = speed;
      void a.play().catch(() => undefined);
    } else a.pause();
  };

  const seek = (fraction: number) => {
    const a = audio.current;
    const total = a && Number.isFinite(a.duration) ? a.duration * 1000 : duration;
    if (a && total) a.currentTime = (Math.min(1, Math.max(0, fraction)) * total) / 1000;
  };

  const onEnded = () => {
    setPlaying(false);
    setPos(0);
    // Continue with the next voice message in the chat.
    const all = [...document.querySelectorAll<HTMLElement>('.voice-player[data-kind="voice"]')];
    const next = all[all.indexOf(root.current!) + 1];
    next?.querySelector<HTMLButtonElement>('.voice-play')?.click();
  };

  const progress = duration ? Math.min(1, pos / duration) : 0;
  return (
    <div class={`voice-player ${playing ? 'is-playing' : ''}`} ref={root} data-kind={att.kind}>
      <audio
        ref={audio}
        class="voice-audio"
        src={fresh.url}
        preload="metadata"
        onPlay={() => setPlaying(true)}
        onPause={() => setPlaying(false)}
        onEnded={onEnded}
        onTimeUpdate={(e) => setPos(e.currentTarget.currentTime * 1000)}
        onLoadedMetadata={(e) => {
          const seconds = e.currentTarget.duration;
          if (Number.isFinite(seconds) && seconds > 0) setFileMs(seconds * 1000);
        }}
        onError={renew}
      />
      <button
        type="button"
        class="voice-play"
        aria-label={playing ? tm('pause') : att.kind === 'voice' ? tm('playVoice') : `${tm('play')} ${att.name}`}
        onClick={toggle}
      >
        <MediaIcon name={playing ? 'pause' : 'play'} />
      </button>
      <div class="voice-body">
        <div
          class="waveform"
          role="slider"
          tabIndex={0}
          aria-label={att.kind === 'voice' ? tm('voiceMessage') : att.name}
          aria-valuemin={0}
          aria-valuemax={Math.round(duration / 1000)}
          aria-valuenow={Math.round(pos / 1000)}
          aria-valuetext={duration ? `${formatDuration(pos)} / ${formatDuration(duration)}` : formatDuration(pos)}
          onClick={(e) => {
            const r = e.currentTarget.getBoundingClientRect();
            seek((e.clientX - r.left) / r.width);
          }}
          onKeyDown={(e) => {
            const step = 5000 / (duration || 1);
            if (e.key === 'ArrowRight') seek(progress + step);
            else if (e.key === 'ArrowLeft') seek(progress - step);
            else return;
            e.preventDefault();
          }}
        >
          {levels.map((v, i) => (
            <span
              key={i}
              class={`wf-bar ${i / levels.length < progress ? 'is-played' : ''}`}
              style={{ height: `${Math.max(12, (v / 255) * 100)}%` }}
            />
          ))}
        </div>
        <span class="voice-meta">
          <span class="voice-time">{playing || pos ? formatDuration(pos) : duration ? formatDuration(duration) : ''}</span>
          <button
            type="button"
            class="voice-speed"
            aria-label={`${tm('speed')}: ${speed}×`}
            onClick={() => {
              const next = SPEEDS[(SPEEDS.indexOf(speed) + 1) % SPEEDS.length];
              speedPref = next;
              localStorage.setItem('ic.voiceSpeed', String(next));
              setSpeed(next);
            }}
          >
            {speed}×
          </button>
        </span>
      </div>
    </div>
  );
}
