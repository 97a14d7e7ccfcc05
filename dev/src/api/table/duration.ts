/**
 * Kubernetes' human-readable durations (k8s.io/apimachinery/pkg/util/duration): HumanDuration, which every AGE
 * column uses, and ShortHumanDuration. Durations are milliseconds; Go's are int64 nanoseconds, so they saturate at
 * about 292 years as Go's `time.Since` does. Pure.
 */
import { ZERO_TIME, timeOf } from './time.js';

/** The longest Go `time.Duration`, in milliseconds. */
const MAX_MS = 9_223_372_036_854.775;

const clamp = (ms: number): number => Math.max(-MAX_MS, Math.min(MAX_MS, ms));

/** `HumanDuration`: about 2-3 significant figures (`45s`, `3m20s`, `15m`, `5h30m`, `10h`, `3d4h`, `20d`, `3y45d`, `9y`). */
export function humanDuration(ms: number): string {
  const d = clamp(ms);
  const seconds = Math.trunc(d / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.trunc(d / 60_000);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.trunc(d / 3_600_000);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.trunc(hours / 24)}d` : `${Math.trunc(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.trunc(hours / 24) % 365;
    const years = Math.trunc(hours / 24 / 365);
    return dy === 0 ? `${years}y` : `${years}y${dy}d`;
  }
  return `${Math.trunc(hours / 24 / 365)}y`;
}

/** `ShortHumanDuration`: one unit (`45s`, `3m`, `5h`, `20d`, `2y`). */
export function shortHumanDuration(ms: number): string {
  const d = clamp(ms);
  const seconds = Math.trunc(d / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.trunc(d / 60_000);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.trunc(d / 3_600_000);
  if (hours < 24) return `${hours}h`;
  if (hours < 24 * 365) return `${Math.trunc(hours / 24)}d`;
  return `${Math.trunc(d / 3_600_000 / 24 / 365)}y`;
}

/** `<unknown>` for Go's zero time, otherwise how long before `now` it was (the printers' translateTimestampSince). */
export function sinceMs(ms: number, now: Date): string {
  return ms === ZERO_TIME ? '<unknown>' : humanDuration(now.getTime() - ms);
}

/** The age of a metav1.Time field (`creationTimestamp`, `lastTimestamp`...): translateTimestampSince. */
export const since = (timestamp: unknown, now: Date): string => sinceMs(timeOf(timestamp), now);
