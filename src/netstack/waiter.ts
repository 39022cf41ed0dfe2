// Readiness events, with Linux poll(2) bit values so the Sentry can pass
// them through unchanged.

export const EVENT_IN = 0x1;
export const EVENT_PRI = 0x2;
export const EVENT_OUT = 0x4;
export const EVENT_ERR = 0x8;
export const EVENT_HUP = 0x10;
export const EVENT_RDHUP = 0x2000;

/** NotifyFn is called with the events whose readiness may have changed. */
export type NotifyFn = (events: number) => void;

/** Notifier is anything the stack can deliver deferred readiness notifications to. */
export interface Notifier {
  /** fireNotify is called by the stack outside packet processing. */
  fireNotify(events: number): void;
}
