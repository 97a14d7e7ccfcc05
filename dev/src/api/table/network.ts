/**
 * Kubernetes' printers for Services (TYPE, CLUSTER-IP, EXTERNAL-IP, PORT(S), AGE, wide SELECTOR), Endpoints
 * (ENDPOINTS: up to three `ip:port`, then `+ N more...`) and EndpointSlices (ADDRESSTYPE, PORTS, ENDPOINTS).
 * The server prints wide, so load balancer addresses are never shortened. Pure.
 */
import type { KubeObject } from '../store.js';
import { column, AGE_COLUMN, NAME_COLUMN, type Convertor, type Row } from './convertor.js';
import { DOC } from './descriptions.js';
import { since } from './duration.js';
import { compareGo } from './go.js';
import { formatLabels } from './labels.js';
import { at, int, isRecord, list, record, str } from './value.js';

const SERVICE_COLUMNS = Object.freeze([
  NAME_COLUMN,
  column('Type', 'string', DOC.serviceSpecType),
  column('Cluster-IP', 'string', DOC.serviceSpecClusterIP),
  column('External-IP', 'string', DOC.serviceSpecExternalIPs),
  column('Port(s)', 'string', DOC.serviceSpecPorts),
  AGE_COLUMN,
  column('Selector', 'string', DOC.serviceSpecSelector, { priority: 1 }),
]);

/** The load balancer's IPs (or host names), sorted and unique, comma-separated. */
function loadBalancerAddresses(service: KubeObject): string {
  const seen = new Set<string>();
  for (const ingress of list(at(service, 'status', 'loadBalancer', 'ingress'))) {
    const ip = str(isRecord(ingress) ? ingress['ip'] : undefined);
    const hostname = str(isRecord(ingress) ? ingress['hostname'] : undefined);
    if (ip !== '') seen.add(ip);
    else if (hostname !== '') seen.add(hostname);
  }
  return [...seen].sort(compareGo).join(',');
}

function externalIp(service: KubeObject): string {
  const spec = record(service['spec']);
  const externalIPs = list(spec['externalIPs']).map(str);
  switch (str(spec['type'])) {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length > 0 ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = loadBalancerAddresses(service);
      if (externalIPs.length > 0) return [...(lb === '' ? [] : lb.split(',')), ...externalIPs].join(',');
      return lb !== '' ? lb : '<pending>';
    }
    case 'ExternalName':
      return str(spec['externalName']);
    default:
      return '<unknown>';
  }
}

/** `80/TCP,443:30443/TCP`. */
function ports(spec: Readonly<Record<string, unknown>>): string {
  return list(spec['ports'])
    .map((p) => {
      const port = record(p);
      const nodePort = int(port['nodePort']);
      return nodePort > 0 ? `${int(port['port'])}:${nodePort}/${str(port['protocol'])}` : `${int(port['port'])}/${str(port['protocol'])}`;
    })
    .join(',');
}

/** The first cluster IP, as the v1 → internal conversion fills `clusterIPs` from `clusterIP`. */
function clusterIp(spec: Readonly<Record<string, unknown>>): string {
  const first = list(spec['clusterIPs'])[0];
  if (typeof first === 'string') return first;
  const ip = str(spec['clusterIP']);
  return ip === '' ? '<none>' : ip;
}

function serviceRow(service: KubeObject, now: Date): Row {
  const spec = record(service['spec']);
  const portText = ports(spec);
  return {
    cells: [
      service.metadata.name,
      str(spec['type']),
      clusterIp(spec),
      externalIp(service),
      portText === '' ? '<none>' : portText,
      since(service.metadata['creationTimestamp'], now),
      formatLabels(spec['selector']),
    ],
  };
}

export const SERVICES: Convertor = Object.freeze({ columns: SERVICE_COLUMNS, row: serviceRow });

/** `net.JoinHostPort`: IPv6 addresses in brackets. */
const joinHostPort = (host: string, port: number): string => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

const MAX_LISTED = 3;

/** formatEndpoints (all ports): `10.0.0.1:80,10.0.0.2:80 + 2 more...`, `<none>` without subsets. */
export function formatEndpoints(endpoints: KubeObject): string {
  const subsets = list(endpoints['subsets']);
  if (subsets.length === 0) return '<none>';
  const listed: string[] = [];
  let more = false;
  let count = 0;
  for (const s of subsets) {
    const subset = record(s);
    const addresses = list(subset['addresses']).map((a) => str(isRecord(a) ? a['ip'] : undefined));
    const subsetPorts = list(subset['ports']);
    if (subsetPorts.length === 0) {
      count += addresses.length;
      for (const ip of addresses) {
        if (listed.length === MAX_LISTED) {
          more = true;
          break;
        }
        listed.push(ip);
      }
      continue;
    }
    for (const p of subsetPorts) {
      count += addresses.length;
      for (const ip of addresses) {
        if (listed.length === MAX_LISTED) {
          more = true;
          break;
        }
        listed.push(joinHostPort(ip, int(record(p)['port'])));
      }
    }
  }
  const text = listed.join(',');
  return more ? `${text} + ${count - MAX_LISTED} more...` : text;
}

export const ENDPOINTS: Convertor = Object.freeze({
  columns: Object.freeze([NAME_COLUMN, column('Endpoints', 'string', DOC.endpointsSubsets), AGE_COLUMN]),
  row: (endpoints: KubeObject, now: Date): Row => ({ cells: [endpoints.metadata.name, formatEndpoints(endpoints), since(endpoints.metadata['creationTimestamp'], now)] }),
});

/** listWithMoreString: the first three, `+ N more...`, `<unset>` when there are none. */
function listWithMore(items: readonly string[]): string {
  const text = items.slice(0, MAX_LISTED).join(',');
  if (items.length > MAX_LISTED) return `${text} + ${items.length - MAX_LISTED} more...`;
  return text === '' ? '<unset>' : text;
}

function sliceRow(slice: KubeObject, now: Date): Row {
  const slicePorts = list(slice['ports']).map((p) => {
    const port = record(p);
    if (typeof port['port'] === 'number') return String(int(port['port']));
    if (typeof port['name'] === 'string') return port['name'];
    return '*';
  });
  const addresses = list(slice['endpoints']).flatMap((e) => list(isRecord(e) ? e['addresses'] : undefined).map(str));
  return { cells: [slice.metadata.name, str(slice['addressType']), listWithMore(slicePorts), listWithMore(addresses), since(slice.metadata['creationTimestamp'], now)] };
}

export const ENDPOINT_SLICES: Convertor = Object.freeze({
  columns: Object.freeze([
    NAME_COLUMN,
    column('AddressType', 'string', DOC.endpointSliceAddressType),
    column('Ports', 'string', DOC.endpointSlicePorts),
    column('Endpoints', 'string', DOC.endpointSliceEndpoints),
    AGE_COLUMN,
  ]),
  row: sliceRow,
});
