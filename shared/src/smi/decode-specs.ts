/**
 * specs.smi-spec.io → hub: HTTPRouteGroup (v1alpha1..v1alpha4), TCPRoute (v1alpha1..v1alpha4), UDPRoute (v1alpha4).
 */
import type { HeaderMatch, HTTPMatch, HTTPRouteGroup, L4Route, Meta, Origin } from './model.js';
import {
  at,
  describe,
  get,
  isPort,
  isRecord,
  nonEmpty,
  readList,
  readRecord,
  readString,
  readStringList,
  records,
  unknownFields,
  wrong,
  PORT_EXPECTED,
} from './reader.js';
import type { Problems, RawRecord } from './reader.js';

export const HTTP_METHODS = ['*', 'GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'] as const;

/** RFC 9110 token. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const HEADERS_EXPECTED = 'a map of header name to value regex, or a list of such maps';

/** Both published forms: `{x-beta: "^on$"}` and `[{x-beta: "^on$"}, ...]` (every key of every entry must hold). */
function readHeaders(p: Problems, raw: unknown, path: string): HeaderMatch[] | undefined {
  const maps: [string, RawRecord][] = [];
  if (isRecord(raw)) maps.push([path, raw]);
  else if (Array.isArray(raw)) {
    raw.forEach((entry, i) => {
      if (isRecord(entry)) maps.push([at(path, i), entry]);
      else wrong(p, at(path, i), 'a map of header name to value regex', entry);
    });
  } else return wrong(p, path, HEADERS_EXPECTED, raw);

  const out: HeaderMatch[] = [];
  let ok = true;
  for (const [mapPath, map] of maps) {
    for (const [name, value] of Object.entries(map)) {
      const field = at(mapPath, name);
      if (!HEADER_NAME.test(name)) {
        ok = false;
        p.error(field, `must be a valid HTTP header name (letters, digits and !#$%&'*+.^_\`|~-)`);
      } else if (typeof value !== 'string') {
        ok = false;
        wrong(p, field, 'a value regex (a string)', value);
      } else {
        out.push({ name: name.toLowerCase(), value });
      }
    }
  }
  return ok ? out : undefined;
}

function readMatch(p: Problems, obj: RawRecord, path: string, v: number, apiVersion: string): HTTPMatch | undefined {
  unknownFields(p, obj, path, ['name', 'pathRegex', 'methods', 'headers'], `an HTTPRouteGroup match in ${apiVersion}`);
  const name = readString(p, obj, 'name', path, { required: true, expected: 'a match name', check: nonEmpty('a match name') });
  const pathRegex = readString(p, obj, 'pathRegex', path, { expected: 'a regex (a string)' });
  const methods = readStringList(p, obj, 'methods', path, {
    expected: `one of ${HTTP_METHODS.join(', ')}`,
    check: (s) => ((HTTP_METHODS as readonly string[]).includes(s) ? undefined : `one of ${HTTP_METHODS.join(', ')} (upper case)`),
  });
  let headers: HeaderMatch[] | undefined;
  const headersRaw = get(obj, 'headers');
  if (headersRaw !== undefined) {
    if (v === 1) {
      // Ignoring them would widen the match, so refuse rather than drop.
      p.error(at(path, 'headers'), 'not available in specs.smi-spec.io/v1alpha1 (ignoring them would widen the match); use specs.smi-spec.io/v1alpha2 or later');
    } else {
      headers = readHeaders(p, headersRaw, at(path, 'headers'));
    }
  }
  if (name === undefined) return undefined;
  return {
    name,
    ...(pathRegex === undefined ? {} : { pathRegex }),
    ...(methods === undefined ? {} : { methods }),
    ...(headers === undefined ? {} : { headers }),
  };
}

export function decodeHTTPRouteGroup(p: Problems, raw: RawRecord, meta: Meta, origin: Origin, v: number): HTTPRouteGroup | undefined {
  const where = `HTTPRouteGroup ${origin.apiVersion}`;
  let body: RawRecord;
  let base: string;
  if (v <= 2) {
    unknownFields(p, raw, '', ['apiVersion', 'kind', 'metadata', 'status', 'matches'], where);
    body = raw;
    base = '';
  } else if (get(raw, 'spec') === undefined && get(raw, 'matches') !== undefined) {
    // The SMI conformance suite writes v1alpha4 HTTPRouteGroups without `spec:`; read them as a fallback.
    unknownFields(p, raw, '', ['apiVersion', 'kind', 'metadata', 'status', 'matches'], where);
    p.warn('matches', `belongs under spec in ${origin.apiVersion}; read from the top level as a fallback`);
    body = raw;
    base = '';
  } else {
    unknownFields(p, raw, '', ['apiVersion', 'kind', 'metadata', 'status', 'spec'], where);
    body = readRecord(p, raw, 'spec', '', { required: true, expected: 'an object with matches' }) ?? {};
    base = 'spec';
    unknownFields(p, body, base, ['matches'], where);
  }

  const matches: HTTPMatch[] = [];
  const seen = new Map<string, number>();
  const list = readList(p, body, 'matches', base, { required: true, expected: 'a list of matches' }) ?? [];
  for (const [i, m] of records(p, list, at(base, 'matches'))) {
    const path = at(at(base, 'matches'), i);
    const match = readMatch(p, m, path, v, origin.apiVersion);
    if (match === undefined) continue;
    const first = seen.get(match.name);
    if (first !== undefined) p.error(at(path, 'name'), `duplicates the name of ${at(at(base, 'matches'), first)}; match names must be unique`);
    else seen.set(match.name, i);
    matches.push(match);
  }
  if (!p.ok) return undefined;
  return { kind: 'HTTPRouteGroup', meta, origin, matches };
}

/** TCPRoute (all versions) and UDPRoute (v1alpha4). */
export function decodeL4Route(p: Problems, raw: RawRecord, meta: Meta, origin: Origin, v: number, kind: 'TCPRoute' | 'UDPRoute'): L4Route | undefined {
  const where = `${kind} ${origin.apiVersion}`;
  unknownFields(p, raw, '', ['apiVersion', 'kind', 'metadata', 'status', 'spec'], where);
  let ports: number[] = [];
  if (v <= 3) {
    const spec = readRecord(p, raw, 'spec', '');
    if (spec !== undefined) {
      if (get(spec, 'matches') !== undefined) {
        // Ignoring port limits would allow every port, so refuse rather than drop.
        p.error('spec.matches', `not available in ${origin.apiVersion} (ignoring it would allow every port); use specs.smi-spec.io/v1alpha4`);
      }
      unknownFields(p, spec, 'spec', ['matches'], where);
    }
  } else {
    const spec = readRecord(p, raw, 'spec', '', { required: true, expected: 'an object with matches.ports' }) ?? {};
    unknownFields(p, spec, 'spec', ['matches'], where);
    const matches = readRecord(p, spec, 'matches', 'spec', { required: true, expected: 'an object with ports (a list; empty = every port)' });
    if (matches !== undefined) {
      unknownFields(p, matches, 'spec.matches', ['ports'], where);
      const list = readList(p, matches, 'ports', 'spec.matches', { required: true, expected: 'a list of ports (empty = every port)' }) ?? [];
      ports = [];
      list.forEach((port, i) => {
        if (isPort(port)) ports.push(port);
        else p.error(at('spec.matches.ports', i), `must be ${PORT_EXPECTED}, got ${describe(port)}`);
      });
    }
  }
  if (!p.ok) return undefined;
  return { kind, meta, origin, ports };
}
