/** Camera and microphone, the ICE servers, the cameras there are. */
import { api } from '../api';
import type { CallType, CallView } from './state';

const AUDIO = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };

/** The microphone, and the camera for a video call; without a camera (or its permission) a
 * video call goes on with sound only from this side. */
export async function media(type: CallType, facing: 'user' | 'environment' = 'user'): Promise<MediaStream> {
  if (type === 'audio') return navigator.mediaDevices.getUserMedia({ audio: AUDIO });
  try {
    return await navigator.mediaDevices.getUserMedia({
      audio: AUDIO,
      video: { facingMode: facing, width: { ideal: 1280 }, height: { ideal: 720 } },
    });
  } catch {
    return navigator.mediaDevices.getUserMedia({ audio: AUDIO });
  }
}

/** STUN/TURN from the server (short-lived TURN credentials); none: host candidates only. */
export async function iceServers(): Promise<RTCIceServer[]> {
  try {
    return (await api<{ iceServers: RTCIceServer[] }>('GET', '/calls/webrtc-config')).iceServers;
  } catch {
    return [];
  }
}

/** What this device can switch between during a call: cameras (a video call), audio outputs
 * (where the browser lets a page choose: setSinkId). */
export async function choices(type: CallType): Promise<Pick<CallView, 'canSwitchCamera' | 'canChooseOutput'>> {
  const devices = await navigator.mediaDevices.enumerateDevices().catch(() => [] as MediaDeviceInfo[]);
  const count = (kind: MediaDeviceKind) => devices.filter((d) => d.kind === kind).length;
  return {
    canSwitchCamera: type === 'video' && count('videoinput') > 1,
    canChooseOutput: 'setSinkId' in HTMLMediaElement.prototype && count('audiooutput') > 1,
  };
}

export function stopStream(s: MediaStream | null | undefined): void {
  for (const t of s?.getTracks() || []) t.stop();
}
