/**
 * The call over everything else: the incoming call (ringing) or the call screen. It sits
 * in the app shell, so a call goes on while the member moves between chats, and it is a
 * modal <dialog>, so it comes above any other dialog that is open (the top layer) and keeps
 * the focus. Escape does not end a call: the buttons do.
 */
import { useEffect, useRef } from 'preact/hooks';
import { useCall, type CallView } from '../../calls/state';
import { t } from '../../i18n';
import './calls.css';
import { CallScreen } from './CallScreen';
import { IncomingCall, incomingLabel } from './IncomingCall';

function Host({ call }: { call: CallView }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current!;
    if (!d.open) d.showModal();
    return () => d.open && d.close();
  }, []);
  const ringing = call.phase === 'incoming';
  return (
    <dialog
      ref={ref}
      class="call-host"
      role={ringing ? 'alertdialog' : 'dialog'}
      aria-label={ringing ? incomingLabel(call) : t('callWith', { name: call.peerName })}
      onCancel={(e) => e.preventDefault()}
    >
      {ringing ? <IncomingCall call={call} /> : <CallScreen call={call} />}
    </dialog>
  );
}

export function CallLayer() {
  const call = useCall();
  return call ? <Host call={call} /> : null;
}
