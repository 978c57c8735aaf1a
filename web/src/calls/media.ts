/** Camera and microphone, the ICE servers, the cameras there are. */
import { api } from '../api';
import type { CallType } from './state';

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

export async function countCameras(): Promise<number> {
  try {
    return (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'videoinput').length;
  } catch {
    return 0;
  }
}

export function stopStream(s: MediaStream | null | undefined): void {
  for (const t of s?.getTracks() || []) t.stop();
}
