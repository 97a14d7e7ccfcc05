/**
 * Kubernetes' Event printer: LAST SEEN, TYPE, REASON, OBJECT (`kind/name`), MESSAGE, and with `-o wide`
 * SUBOBJECT, SOURCE, FIRST SEEN, COUNT, NAME. Events of the events.k8s.io shape (eventTime, series,
 * reportingComponent) print as `kubectl get events` shows them. Pure.
 */
import type { KubeObject } from '../store.js';
import { column, NAME_COLUMN, type Convertor, type Row } from './convertor.js';
import { DOC } from './descriptions.js';
import { since, sinceMs } from './duration.js';
import { goTrimSpace } from './go.js';
import { ZERO_TIME, timeOf } from './time.js';
import { at, int, isRecord, record, str } from './value.js';

const EVENT_COLUMNS = Object.freeze([
  column('Last Seen', 'string', DOC.eventLastTimestamp),
  column('Type', 'string', DOC.eventType),
  column('Reason', 'string', DOC.eventReason),
  column('Object', 'string', DOC.eventInvolvedObject),
  column('Subobject', 'string', DOC.objectReferenceFieldPath, { priority: 1 }),
  column('Source', 'string', DOC.eventSource, { priority: 1 }),
  column('Message', 'string', DOC.eventMessage),
  column('First Seen', 'string', DOC.eventFirstTimestamp, { priority: 1 }),
  column('Count', 'string', DOC.eventCount, { priority: 1 }),
  { ...NAME_COLUMN, priority: 1 },
]);

/** formatEventSource: `component, host`, falling back to the reporting controller and instance. */
function source(event: KubeObject): string {
  const from = record(event['source']);
  const component = str(from['component']) !== '' ? str(from['component']) : str(event['reportingComponent']);
  const instance = str(from['host']) !== '' ? str(from['host']) : str(event['reportingInstance']);
  return instance === '' ? component : `${component}, ${instance}`;
}

function eventRow(event: KubeObject, now: Date): Row {
  const first = timeOf(event['firstTimestamp']);
  const firstSeen = first === ZERO_TIME ? since(event['eventTime'], now) : sinceMs(first, now);
  let lastSeen = timeOf(event['lastTimestamp']) === ZERO_TIME ? firstSeen : since(event['lastTimestamp'], now);
  let count = int(event['count']);
  const series = event['series'];
  if (isRecord(series)) {
    lastSeen = since(series['lastObservedTime'], now);
    count = int(series['count']);
  } else if (count === 0) count = 1;
  const involved = record(event['involvedObject']);
  const kind = str(involved['kind']).toLowerCase();
  const name = str(involved['name']);
  return {
    cells: [
      lastSeen,
      str(event['type']),
      str(event['reason']),
      name === '' ? kind : `${kind}/${name}`,
      str(at(event, 'involvedObject', 'fieldPath')),
      source(event),
      goTrimSpace(str(event['message'])),
      firstSeen,
      count,
      event.metadata.name,
    ],
  };
}

export const EVENTS: Convertor = Object.freeze({ columns: EVENT_COLUMNS, row: eventRow });
