/**
 * core/v1 Events about pods, as the kubelet records them: involvedObject (the pod, and the container as
 * `fieldPath`), reason, message, type, `source.component` `loom-dev-kubelet`. A repeat of the same event
 * (object, container, type, reason, message) is counted on the existing Event (`count`, `lastTimestamp`) instead
 * of making a new one, as the kubelet's event correlator does. Recording never fails the caller: an Event that
 * cannot be written (its namespace is going away) is logged and dropped.
 */
import type { Logger } from '@loom/shared/runtime';
import type { Objects } from '../../api/objects.js';

export const EVENT_SOURCE = 'loom-dev-kubelet';

/** How many distinct events are remembered for counting repeats. */
const REMEMBERED = 4096;

export interface EventTarget {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  /** `spec.containers{name}` / `spec.initContainers{name}`, when the event is about a container. */
  readonly fieldPath?: string;
}

export interface EventInput {
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
}

const timestamp = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

export class EventRecorder {
  readonly #objects: Objects;
  readonly #log: Logger;
  readonly #host: string;
  readonly #now: () => number;
  readonly #seen = new Map<string, { name: string; count: number }>();
  #sequence = 0;

  constructor(options: { objects: Objects; log: Logger; nodeName: string; now?: () => number }) {
    this.#objects = options.objects;
    this.#log = options.log;
    this.#host = options.nodeName;
    this.#now = options.now ?? Date.now;
  }

  record(target: EventTarget, event: EventInput): void {
    const type = this.#objects.registry.find('', 'v1', 'events');
    if (type === undefined) return;
    const now = this.#now();
    const at = timestamp(now);
    const key = JSON.stringify([target.uid, target.fieldPath ?? '', event.type, event.reason, event.message]);
    const seen = this.#seen.get(key);
    try {
      if (seen !== undefined) {
        try {
          seen.count++;
          this.#objects.patch(type, target.namespace, seen.name, 'merge', { count: seen.count, lastTimestamp: at }, undefined);
          this.#seen.delete(key);
          this.#seen.set(key, seen);
          return;
        } catch {
          // The Event is gone (deleted, or its namespace): make a new one.
          this.#seen.delete(key);
        }
      }
      // The kubelet names events <object>.<hex nanoseconds>.
      const nanos = BigInt(now) * 1_000_000n + BigInt(this.#sequence++ % 1_000_000);
      const name = `${target.name}.${nanos.toString(16)}`;
      this.#objects.create(type, target.namespace, {
        metadata: { name, namespace: target.namespace },
        involvedObject: {
          apiVersion: 'v1',
          kind: 'Pod',
          namespace: target.namespace,
          name: target.name,
          uid: target.uid,
          ...(target.fieldPath === undefined ? {} : { fieldPath: target.fieldPath }),
        },
        reason: event.reason,
        message: event.message,
        type: event.type,
        source: { component: EVENT_SOURCE, host: this.#host },
        reportingComponent: EVENT_SOURCE,
        reportingInstance: this.#host,
        firstTimestamp: at,
        lastTimestamp: at,
        count: 1,
      });
      this.#seen.set(key, { name, count: 1 });
      if (this.#seen.size > REMEMBERED) {
        const oldest = this.#seen.keys().next().value;
        if (oldest !== undefined) this.#seen.delete(oldest);
      }
    } catch (err) {
      this.#log.debug({ event: 'event.dropped', reason: event.reason, pod: `${target.namespace}/${target.name}`, err }, 'event not recorded');
    }
  }
}
