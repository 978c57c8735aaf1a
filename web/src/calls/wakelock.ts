/** Keeps the screen on during a call (Screen Wake Lock API, where the browser has it). */

let lock: WakeLockSentinel | null = null;
let wanted = false;

async function take(): Promise<void> {
  if (!wanted || lock || !('wakeLock' in navigator) || document.visibilityState !== 'visible') return;
  try {
    lock = await navigator.wakeLock.request('screen');
    lock.addEventListener('release', () => {
      lock = null;
    });
  } catch {
    /* refused (battery saver, not visible): the call goes on without it */
  }
}

export function holdScreen(): void {
  wanted = true;
  void take();
}

export function releaseScreen(): void {
  wanted = false;
  void lock?.release().catch(() => undefined);
  lock = null;
}

// The browser drops the lock when the page is hidden; take it again on return.
document.addEventListener('visibilitychange', () => void take());
