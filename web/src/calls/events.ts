// Temporary until the calls branch's protocol is generated (scripts/gen-client).
export const CallClientEvent = {
  ACCEPT_CALL: 'accept_call',
  REJECT_CALL: 'reject_call',
  END_CALL: 'end_call',
  SDP_OFFER: 'sdp_offer',
  SDP_ANSWER: 'sdp_answer',
  ICE_CANDIDATE: 'ice_candidate',
  JOIN_GROUP_CALL: 'join_group_call',
  LEAVE_GROUP_CALL: 'leave_group_call',
  REAUTH: 'reauth',
} as const;
export type CallClientEventName = (typeof CallClientEvent)[keyof typeof CallClientEvent];
export const CallServerEvent = {
  INCOMING_CALL: 'incoming_call',
  CALL_INITIATED: 'call_initiated',
  CALL_ACCEPTED: 'call_accepted',
  CALL_REJECTED: 'call_rejected',
  CALL_ENDED: 'call_ended',
  CALL_ANSWERED_ELSEWHERE: 'call_answered_elsewhere',
  SDP_OFFER: 'sdp_offer',
  SDP_ANSWER: 'sdp_answer',
  ICE_CANDIDATE: 'ice_candidate',
  GROUP_CALL_PARTICIPANTS: 'group_call_participants',
  ERROR: 'error',
} as const;
export type CallServerEventName = (typeof CallServerEvent)[keyof typeof CallServerEvent];
