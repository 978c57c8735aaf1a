/**
 * One RTCPeerConnection of a call, in the seed's order: the caller offers (at once, while
 * it rings: the server keeps the offer for a device that accepts later), the callee
 * answers. The caller also restarts ICE when the connection drops (a network change),
 * renegotiating through the same signaling; the callee answers that offer like the first.
 */

export type Quality = 'good' | 'fair' | 'poor';

export interface PeerSignals {
  offer(sdp: RTCSessionDescriptionInit): void;
  answer(sdp: RTCSessionDescriptionInit): void;
  candidate(c: RTCIceCandidateInit): void;
}

export interface PeerEvents {
  state(state: RTCPeerConnectionState): void;
  remote(stream: MediaStream): void;
  quality(q: Quality): void;
  /** The remote side's audio level, 0..1 (who is talking). */
  level(level: number): void;
}

/** How long a "disconnected" ICE state may last before the caller restarts ICE. */
const DISCONNECTED_GRACE_MS = 2500;
const STATS_EVERY_MS = 2000;

export class CallPeer {
  readonly pc: RTCPeerConnection;
  private remoteSet = false;
  private queued: RTCIceCandidateInit[] = [];
  private graceTimer: ReturnType<typeof setTimeout> | undefined;
  private statsTimer: ReturnType<typeof setInterval> | undefined;
  private lastLoss = { lost: 0, received: 0 };
  private closed = false;
  readonly remoteStream = new MediaStream();

  constructor(
    iceServers: RTCIceServer[],
    local: MediaStream,
    private offerer: boolean,
    private signals: PeerSignals,
    private events: PeerEvents,
  ) {
    const pc = (this.pc = new RTCPeerConnection({ iceServers }));
    for (const track of local.getTracks()) pc.addTrack(track, local);
    pc.onicecandidate = (e) => {
      if (e.candidate) signals.candidate(e.candidate.toJSON());
    };
    pc.ontrack = (e) => {
      if (!this.remoteStream.getTracks().includes(e.track)) this.remoteStream.addTrack(e.track);
      events.remote(this.remoteStream);
    };
    pc.onnegotiationneeded = () => {
      if (this.offerer) void this.sendOffer();
    };
    pc.onconnectionstatechange = () => events.state(pc.connectionState);
    pc.oniceconnectionstatechange = () => this.onIceState();
    this.statsTimer = setInterval(() => void this.sample(), STATS_EVERY_MS);
  }

  private async sendOffer(iceRestart = false): Promise<void> {
    if (this.closed || this.pc.signalingState !== 'stable') return;
    const offer = await this.pc.createOffer({ iceRestart });
    await this.pc.setLocalDescription(offer);
    this.signals.offer({ type: 'offer', sdp: this.pc.localDescription!.sdp });
  }

  private onIceState(): void {
    const s = this.pc.iceConnectionState;
    clearTimeout(this.graceTimer);
    if (!this.offerer || this.closed) return;
    if (s === 'failed') this.restart();
    // "disconnected" often heals by itself (a short drop); restart only when it lasts.
    else if (s === 'disconnected') this.graceTimer = setTimeout(() => this.restart(), DISCONNECTED_GRACE_MS);
  }

  /** ICE restart (the caller's side): a new offer with fresh credentials. */
  restart(): void {
    if (!this.offerer || this.closed) return;
    if (this.pc.signalingState === 'stable') void this.sendOffer(true).catch(() => undefined);
    else this.pc.restartIce();
  }

  async onOffer(sdp: RTCSessionDescriptionInit): Promise<void> {
    if (this.offerer || this.closed) return;
    await this.pc.setRemoteDescription(sdp);
    await this.flushCandidates();
    const answer = await this.pc.createAnswer();
    await this.pc.setLocalDescription(answer);
    this.signals.answer({ type: 'answer', sdp: this.pc.localDescription!.sdp });
  }

  async onAnswer(sdp: RTCSessionDescriptionInit): Promise<void> {
    if (!this.offerer || this.closed || this.pc.signalingState !== 'have-local-offer') return;
    await this.pc.setRemoteDescription(sdp);
    await this.flushCandidates();
  }

  async onCandidate(c: RTCIceCandidateInit): Promise<void> {
    if (this.closed) return;
    if (!this.remoteSet) {
      this.queued.push(c);
      return;
    }
    await this.pc.addIceCandidate(c).catch(() => undefined);
  }

  private async flushCandidates(): Promise<void> {
    this.remoteSet = true;
    const list = this.queued;
    this.queued = [];
    for (const c of list) await this.pc.addIceCandidate(c).catch(() => undefined);
  }

  /** Swap the outgoing track of a kind (switching the camera) without renegotiating. */
  async replaceTrack(track: MediaStreamTrack): Promise<void> {
    const sender = this.pc.getSenders().find((s) => s.track?.kind === track.kind);
    await sender?.replaceTrack(track);
  }

  /** Connection quality from the selected candidate pair's RTT and the inbound loss. */
  private async sample(): Promise<void> {
    if (this.closed || this.pc.connectionState !== 'connected') return;
    const report = await this.pc.getStats();
    let rtt: number | undefined;
    let lost = 0;
    let received = 0;
    let level: number | undefined;
    report.forEach((s) => {
      if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded' && s.currentRoundTripTime !== undefined)
        rtt = s.currentRoundTripTime;
      if (s.type === 'inbound-rtp') {
        lost += s.packetsLost || 0;
        received += s.packetsReceived || 0;
        if (s.kind === 'audio' && typeof s.audioLevel === 'number') level = s.audioLevel;
      }
    });
    const dLost = lost - this.lastLoss.lost;
    const dRecv = received - this.lastLoss.received;
    this.lastLoss = { lost, received };
    const loss = dLost + dRecv > 0 ? dLost / (dLost + dRecv) : 0;
    this.events.quality(qualityOf(rtt, loss));
    if (level !== undefined) this.events.level(level);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.graceTimer);
    clearInterval(this.statsTimer);
    this.pc.close();
  }
}

/** RTT in seconds, loss as a fraction: the usual thresholds of interactive calls. */
export function qualityOf(rtt: number | undefined, loss: number): Quality {
  if ((rtt ?? 0) > 0.5 || loss > 0.1) return 'poor';
  if ((rtt ?? 0) > 0.25 || loss > 0.03) return 'fair';
  return 'good';
}
