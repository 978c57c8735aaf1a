/**
 * The mic button of the composer (shown while the text is empty).
 * - Touch: hold to record, slide left to cancel, release to send.
 * - Mouse / keyboard: a click starts; the bar shows the time and the level; Stop gives a
 *   preview to listen to, then Send or Delete.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { formatDuration, tm } from '../../../media/i18n';
import { startRecording, type Recorder, type Recording } from '../../../media/recorder';
import { sendWithFiles } from '../../../media/upload';
import { toast } from '../../../store';
import type { Id } from '../../../types';
import { Icon, IconButton } from '../../../ui';
import { MediaIcon } from './icons';

const MIN_MS = 500;
const CANCEL_DX = 80;

type Phase =
  | { name: 'idle' }
  | { name: 'recording'; hold: boolean }
  | { name: 'preview'; rec: Recording; url: string };

export function VoiceRecorder({ chatId, onSent }: { chatId: Id; onSent: () => void }) {
  const [phase, setPhase] = useState<Phase>({ name: 'idle' });
  const [ms, setMs] = useState(0);
  const [level, setLevel] = useState(0);
  const [slide, setSlide] = useState(0);
  const recorder = useRef<Recorder | null>(null);
  const startX = useRef(0);
  const starting = useRef<Promise<void> | null>(null);

  useEffect(() => () => recorder.current?.cancel(), []);
  useEffect(() => {
    if (phase.name === 'preview') return () => URL.revokeObjectURL(phase.url);
  }, [phase]);

  const begin = (hold: boolean) => {
    if (recorder.current || starting.current) return;
    setMs(0);
    setSlide(0);
    starting.current = startRecording()
      .then((r) => {
        recorder.current = r;
        r.onTick((t, l) => {
          setMs(t);
          setLevel(l);
        });
        setPhase({ name: 'recording', hold });
      })
      .catch(() => toast(tm('micUnavailable')))
      .finally(() => (starting.current = null));
  };

  const cancel = () => {
    recorder.current?.cancel();
    recorder.current = null;
    setPhase({ name: 'idle' });
  };

  const finish = async (then: 'send' | 'preview') => {
    await starting.current;
    const r = recorder.current;
    if (!r) return;
    recorder.current = null;
    const rec = await r.stop();
    if (rec.durationMs < MIN_MS || !rec.blob.size) {
      setPhase({ name: 'idle' });
      return;
    }
    if (then === 'preview') setPhase({ name: 'preview', rec, url: URL.createObjectURL(rec.blob) });
    else send(rec);
  };

  const send = (rec: Recording) => {
    setPhase({ name: 'idle' });
    void sendWithFiles(chatId, '', [
      { blob: rec.blob, name: rec.name, kind: 'voice', durationMs: rec.durationMs, waveform: rec.waveform },
    ]);
    onSent();
  };

  if (phase.name === 'preview') {
    return (
      <div class="recorder-bar is-preview">
        <IconButton icon="delete" label={tm('deleteRecording')} onClick={() => setPhase({ name: 'idle' })} />
        <audio class="recorder-preview" src={phase.url} controls aria-label={tm('voiceMessage')} />
        <span class="voice-time">{formatDuration(phase.rec.durationMs)}</span>
        <button type="button" class="send-btn" aria-label={tm('sendVoice')} title={tm('sendVoice')} onClick={() => send(phase.rec)}>
          <Icon name="send" />
        </button>
      </div>
    );
  }

  const recording = phase.name === 'recording';
  return (
    <>
      {recording && (
        <div class="recorder-bar" role="status" aria-label={tm('recording')}>
          <span class="rec-dot" style={{ transform: `scale(${1 + level * 0.8})` }} aria-hidden="true" />
          <span class="voice-time rec-time">{formatDuration(ms)}</span>
          {phase.hold ? (
            <span class="rec-hint" style={{ transform: `translateX(${Math.min(0, slide)}px)` }}>
              {tm('slideToCancel')}
            </span>
          ) : (
            <IconButton icon="delete" label={tm('deleteRecording')} onClick={cancel} />
          )}
        </div>
      )}
      <button
        type="button"
        class={`send-btn mic-btn ${recording ? 'is-recording' : ''}`}
        aria-label={recording && !phase.hold ? tm('stopRecording') : tm('recordVoice')}
        title={recording && !phase.hold ? tm('stopRecording') : tm('holdToRecord')}
        onPointerDown={(e) => {
          if (e.pointerType !== 'touch') return;
          e.preventDefault();
          try {
            // The finger may slide off the button: its moves and release still come here.
            e.currentTarget.setPointerCapture(e.pointerId);
          } catch {
            /* not an active pointer (a synthetic event): nothing to capture */
          }
          startX.current = e.clientX;
          begin(true);
        }}
        onPointerMove={(e) => {
          if (e.pointerType !== 'touch' || !(recorder.current || starting.current)) return;
          const dx = e.clientX - startX.current;
          setSlide(dx);
          if (dx < -CANCEL_DX) cancel();
        }}
        onPointerUp={(e) => {
          if (e.pointerType === 'touch') void finish('send');
        }}
        onPointerCancel={(e) => e.pointerType === 'touch' && cancel()}
        onContextMenu={(e) => e.preventDefault()}
        onClick={(e) => {
          // Touch is handled by the hold above; a mouse click or a key toggles.
          if ((e as unknown as PointerEvent).pointerType === 'touch') return;
          if (recording) void finish('preview');
          else begin(false);
        }}
      >
        <MediaIcon name={recording && !phase.hold ? 'stop' : 'mic'} />
      </button>
    </>
  );
}
