// Time for the stack. Everything time-dependent (retransmission, keepalive,
// TIME_WAIT, reassembly, neighbor resolution) goes through a Clock so tests
// drive time by hand with FakeClock and stay deterministic.

/** Clock is the stack's source of time and one-shot timers, in milliseconds. */
export interface Clock {
  /** now returns a monotonic time in milliseconds (may be fractional). */
  now(): number;
  /** setTimeout runs fn once after ms milliseconds; returns a handle for clearTimeout. */
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** realClock uses Node's timers. Timers are unref'd: a stack alone never keeps a process alive. */
export const realClock: Clock = {
  now: () => performance.now(),
  setTimeout(fn, ms) {
    const h = setTimeout(fn, ms);
    (h as { unref?: () => void }).unref?.();
    return h;
  },
  clearTimeout(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};

interface FakeTimer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** FakeClock is a manual clock for tests: time moves only in advance(). */
export class FakeClock implements Clock {
  private t = 0;
  private seq = 0;
  // Sorted by (at, seq); timers are few, so insertion sort is fine.
  private timers: FakeTimer[] = [];

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const timer: FakeTimer = { at: this.t + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    let i = this.timers.length;
    while (i > 0 && this.timers[i - 1].at > timer.at) i--;
    this.timers.splice(i, 0, timer);
    return timer;
  }

  clearTimeout(handle: unknown): void {
    const timer = handle as FakeTimer;
    if (timer.cancelled) return;
    timer.cancelled = true;
    const i = this.timers.indexOf(timer);
    if (i >= 0) this.timers.splice(i, 1);
  }

  /** pending returns how many timers are armed. */
  get pending(): number {
    return this.timers.length;
  }

  /** nextAt returns when the next timer fires, or undefined. */
  nextAt(): number | undefined {
    return this.timers[0]?.at;
  }

  /** advance moves time forward by ms, firing due timers in order (timers they arm included). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const next = this.timers[0];
      if (next === undefined || next.at > end) break;
      this.timers.shift();
      this.t = Math.max(this.t, next.at);
      next.cancelled = true;
      next.fn();
    }
    this.t = end;
  }

  /**
   * runUntil advances time timer by timer until cond() holds (checked before
   * each step) or limitMs of simulated time passed; returns cond().
   */
  runUntil(cond: () => boolean, limitMs = 600_000): boolean {
    const end = this.t + limitMs;
    while (!cond()) {
      const next = this.timers[0];
      if (next === undefined || next.at > end) {
        this.t = Math.max(this.t, end);
        return cond();
      }
      this.advance(next.at - this.t);
    }
    return true;
  }
}

/** LAZY_STOP_MS bounds how long a stopped Timer may keep its host timer (and what it references). */
const LAZY_STOP_MS = 1000;

/**
 * Timer is a restartable one-shot timer that tolerates frequent resets (the
 * retransmission timer is reset on every ACK): moving the deadline later
 * keeps the armed host timer, which re-arms itself for the remainder when it
 * fires early.
 */
export class Timer {
  private deadline = -1;
  private armedAt = -1;
  private handle: unknown = undefined;
  private readonly onFire = (): void => this.fire();

  constructor(private readonly clock: Clock, private readonly fn: () => void) {}

  /** enabled reports whether the timer is armed. */
  get enabled(): boolean {
    return this.deadline >= 0;
  }

  /** remaining returns the milliseconds left, or -1 when stopped. */
  get remaining(): number {
    return this.deadline < 0 ? -1 : Math.max(0, this.deadline - this.clock.now());
  }

  /** reset (re)arms the timer to fire after ms milliseconds. */
  reset(ms: number): void {
    const now = this.clock.now();
    this.deadline = now + ms;
    if (this.armedAt >= 0 && this.armedAt <= this.deadline) return;
    if (this.armedAt >= 0) this.clock.clearTimeout(this.handle);
    this.armedAt = this.deadline;
    this.handle = this.clock.setTimeout(this.onFire, ms);
  }

  /**
   * stop disarms the timer. A host timer due within LAZY_STOP_MS stays armed
   * (it fires as a no-op, or serves the next reset): the retransmission and
   * delayed-ACK timers are stopped and restarted for every write on a busy
   * connection, and host timer calls cost more than a stale wake-up.
   */
  stop(): void {
    this.deadline = -1;
    if (this.armedAt >= 0 && this.armedAt - this.clock.now() > LAZY_STOP_MS) {
      this.clock.clearTimeout(this.handle);
      this.armedAt = -1;
      this.handle = undefined;
    }
  }

  /** cancel disarms the timer and releases its host timer at once. */
  cancel(): void {
    this.deadline = -1;
    if (this.armedAt >= 0) {
      this.clock.clearTimeout(this.handle);
      this.armedAt = -1;
      this.handle = undefined;
    }
  }

  private fire(): void {
    this.armedAt = -1;
    this.handle = undefined;
    if (this.deadline < 0) return;
    const left = this.deadline - this.clock.now();
    // Host timers may fire a little early; re-arm only for a real remainder.
    if (left > 1) {
      this.armedAt = this.deadline;
      this.handle = this.clock.setTimeout(this.onFire, left);
      return;
    }
    this.deadline = -1;
    this.fn();
  }
}
