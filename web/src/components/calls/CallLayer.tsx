/**
 * The call over everything else: the incoming call (ringing) or the call screen. It sits
 * in the app shell, so a call goes on while the member moves between chats.
 */
import { useCall } from '../../calls/state';
import './calls.css';
import { CallScreen } from './CallScreen';
import { IncomingCall } from './IncomingCall';

export function CallLayer() {
  const call = useCall();
  if (!call) return null;
  return call.phase === 'incoming' ? <IncomingCall call={call} /> : <CallScreen call={call} />;
}
