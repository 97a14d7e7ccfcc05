/**
 * A watch, as the Kubernetes API streams it: one JSON event per line (`{"type":"ADDED","object":{...}}`).
 *
 * - resourceVersion unset or "0": ADDED for every current object first, then changes; with `sendInitialEvents=true`
 *   the same, followed by a BOOKMARK annotated `k8s.io/initial-events-end` (the watch-list protocol).
 * - A resourceVersion: the changes after it, replayed from the store's log; older than the log reaches → one
 *   ERROR event with a 410 Expired Status (clients then list again), as the real API server does.
 * - Selectors: an object that stops matching arrives as DELETED, one that starts matching as ADDED.
 * - Bookmarks (`allowWatchBookmarks=true`) every `bookmarkIntervalMs`; `timeoutSeconds` ends the watch.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@loom/shared/runtime';
import type { Objects, Selection } from './objects.js';
import { apiVersionOf, storageKey, type ResourceType } from './registry.js';
import { ApiError, badRequest, statusOf } from './status.js';
import { ExpiredError, type KubeObject, type StoreEvent } from './store.js';

export interface WatchRequest {
  readonly objects: Objects;
  readonly type: ResourceType;
  readonly namespace: string | undefined;
  readonly selection: Selection;
  readonly resourceVersion: string;
  readonly bookmarks: boolean;
  readonly sendInitialEvents: boolean;
  readonly timeoutSeconds: number;
  readonly bookmarkIntervalMs: number;
  readonly log: Logger;
  /** Converts objects stored in another version (webhook-converted custom resources); events keep their order. */
  readonly convert?: (objects: KubeObject[]) => Promise<KubeObject[]>;
  /** Each event's object in the negotiated form (Table, PartialObjectMetadata); undefined ends the stream. */
  readonly encode?: (object: unknown) => unknown;
}

type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** Which event a selecting watcher sees for a change (null: none). Pure. */
export function visibleEvent(event: Pick<StoreEvent, 'type' | 'object' | 'previous'>, selected: (o: KubeObject) => boolean): 'ADDED' | 'MODIFIED' | 'DELETED' | null {
  const now = selected(event.object);
  if (event.type !== 'MODIFIED') return now ? event.type : null;
  const before = event.previous === undefined ? false : selected(event.previous);
  if (before && now) return 'MODIFIED';
  if (now) return 'ADDED';
  if (before) return 'DELETED';
  return null;
}

const isKube = (v: unknown): v is KubeObject => typeof v === 'object' && v !== null && 'metadata' in v;

/** Starts streaming; returns the function that ends the watch. Throws ApiError before anything is written. */
export function serveWatch(req: IncomingMessage, res: ServerResponse, w: WatchRequest): () => void {
  const { objects, type } = w;
  const select = objects.selector(type, w.selection);
  const inNamespace = (o: KubeObject): boolean => w.namespace === undefined || o.metadata.namespace === w.namespace;
  const selected = (o: KubeObject): boolean => inNamespace(o) && select(o);
  const apiVersion = apiVersionOf(type.group, type.version);
  const initial = w.resourceVersion === '' || w.resourceVersion === '0' || w.sendInitialEvents;
  let from: number;
  if (initial) from = objects.store.resourceVersion;
  else {
    from = Number(w.resourceVersion);
    if (!Number.isSafeInteger(from) || from < 0) throw badRequest(`invalid resource version: ${JSON.stringify(w.resourceVersion)}`);
  }
  if (!Number.isFinite(w.timeoutSeconds) || w.timeoutSeconds < 0) throw badRequest('timeoutSeconds must be a non-negative number');

  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache, private', 'transfer-encoding': 'chunked' });
  res.flushHeaders();
  let lastRv = from;
  let ended = false;
  const emit = (eventType: WatchEventType, object: unknown): void => {
    if (ended) return;
    const encoded = w.encode === undefined ? object : w.encode(object);
    if (encoded === undefined) return stop();
    res.write(`${JSON.stringify({ type: eventType, object: encoded })}\n`);
  };
  // Events that need a conversion wait for it; every later event waits behind them, so the order holds.
  let queue: Promise<void> | undefined;
  const write = (eventType: WatchEventType, object: unknown): void => {
    const convert = w.convert;
    const needs = convert !== undefined && isKube(object) && object['apiVersion'] !== apiVersion;
    if (!needs && queue === undefined) return emit(eventType, object);
    const converted = needs ? convert([object]) : Promise.resolve([object as KubeObject]);
    const previous = queue ?? Promise.resolve();
    const next: Promise<void> = previous
      .then(() => converted)
      .then(([o]) => emit(eventType, o))
      .catch((err: unknown) => {
        emit('ERROR', statusOf(err instanceof ApiError ? err : new ApiError(500, 'InternalError', (err as Error).message)));
        stop();
      })
      .finally(() => {
        if (queue === next) queue = undefined;
      });
    queue = next;
  };
  const served = (o: KubeObject): KubeObject => (type.webhookConversion === true ? { ...o, kind: type.kind } : { ...o, apiVersion, kind: type.kind });
  const bookmark = (annotations?: Record<string, string>): void => {
    write('BOOKMARK', { kind: type.kind, apiVersion, metadata: { resourceVersion: String(lastRv), ...(annotations === undefined ? {} : { annotations }) } });
  };

  if (initial) {
    for (const o of objects.store.list(storageKey(type), w.namespace)) if (select(o)) write('ADDED', served(o));
    if (w.sendInitialEvents && w.bookmarks) bookmark({ 'k8s.io/initial-events-end': 'true' });
  }
  let stopStore: () => void = () => {};
  try {
    stopStore = objects.store.watch(storageKey(type), from, (event) => {
      lastRv = event.rv;
      const visible = visibleEvent(event, selected);
      if (visible !== null) write(visible, served(event.object));
    });
  } catch (err) {
    if (!(err instanceof ExpiredError)) throw err;
    write('ERROR', statusOf(new ApiError(410, 'Expired', err.message)));
    ended = true;
    res.end();
    return () => {};
  }
  const timers: NodeJS.Timeout[] = [];
  function stop(): void {
    if (ended) return;
    ended = true;
    stopStore();
    for (const t of timers) clearTimeout(t);
    res.end();
  }
  if (w.bookmarks) {
    const interval = setInterval(() => {
      lastRv = Math.max(lastRv, objects.store.resourceVersion);
      bookmark();
    }, w.bookmarkIntervalMs);
    interval.unref();
    timers.push(interval);
  }
  if (w.timeoutSeconds > 0) {
    const timeout = setTimeout(stop, w.timeoutSeconds * 1000);
    timeout.unref();
    timers.push(timeout);
  }
  req.socket.on('error', stop);
  res.on('close', stop);
  res.on('error', (err: Error) => {
    w.log.debug({ event: 'api.watch_error', resource: type.plural, reason: err.message }, 'watch stream failed');
    stop();
  });
  return stop;
}
