// TCP states, numbered as Linux numbers them (tcpi_state, /proc/net/tcp).

export const TCP_ESTABLISHED = 1;
export const TCP_SYN_SENT = 2;
export const TCP_SYN_RECV = 3;
export const TCP_FIN_WAIT1 = 4;
export const TCP_FIN_WAIT2 = 5;
export const TCP_TIME_WAIT = 6;
export const TCP_CLOSE = 7;
export const TCP_CLOSE_WAIT = 8;
export const TCP_LAST_ACK = 9;
export const TCP_LISTEN = 10;
export const TCP_CLOSING = 11;

export const STATE_NAMES: Record<number, string> = {
  1: 'ESTABLISHED',
  2: 'SYN-SENT',
  3: 'SYN-RECEIVED',
  4: 'FIN-WAIT-1',
  5: 'FIN-WAIT-2',
  6: 'TIME-WAIT',
  7: 'CLOSED',
  8: 'CLOSE-WAIT',
  9: 'LAST-ACK',
  10: 'LISTEN',
  11: 'CLOSING',
};

/** isSynchronized: states after the handshake. */
export function isSynchronized(s: number): boolean {
  return s === TCP_ESTABLISHED || s === TCP_FIN_WAIT1 || s === TCP_FIN_WAIT2 || s === TCP_CLOSE_WAIT || s === TCP_CLOSING || s === TCP_LAST_ACK || s === TCP_TIME_WAIT;
}

/** canSendData: states in which queued data (and our FIN) may go out. */
export function canSendData(s: number): boolean {
  return s === TCP_ESTABLISHED || s === TCP_CLOSE_WAIT || s === TCP_FIN_WAIT1 || s === TCP_CLOSING || s === TCP_LAST_ACK;
}

/** canReceiveData: states in which the peer may still send data. */
export function canReceiveData(s: number): boolean {
  return s === TCP_ESTABLISHED || s === TCP_FIN_WAIT1 || s === TCP_FIN_WAIT2;
}
