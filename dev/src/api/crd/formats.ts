/**
 * The string formats a CRD schema may name, as kube-openapi's strfmt registry checks them, and which formats
 * survive on which type (apiextensions strips unsupported ones: they are then not checked at all).
 * Checked here: date-time, date, byte, password, uuid/uuid3/uuid4/uuid5, ipv4, ipv6, cidr, hostname, mac,
 * duration, hexcolor, rgbcolor, bsonobjectid, ssn, k8s-short-name, k8s-long-name, and (approximately: Go's
 * net/mail and net/url parsers are not reproduced) email and uri. isbn, isbn10, isbn13 and creditcard are
 * accepted without a check.
 */

/** Format names normalised as go-openapi does (dashes removed). */
const normalize = (name: string): string => name.replaceAll('-', '');

const SUPPORTED = new Set(
  [
    'bsonobjectid', 'uri', 'email', 'hostname', 'ipv4', 'ipv6', 'cidr', 'mac', 'uuid', 'uuid3', 'uuid4', 'uuid5', 'isbn', 'isbn10',
    'isbn13', 'creditcard', 'ssn', 'hexcolor', 'rgbcolor', 'byte', 'password', 'date', 'duration', 'datetime', 'k8s-short-name', 'k8s-long-name',
  ].map(normalize),
);

/**
 * The format the validator sees for a schema node: `format` unless Kubernetes strips it (string formats outside
 * the supported list, integer formats other than int32/int64, number formats other than float/double, any
 * format on other types). `types` is the node's type list (two entries for int-or-string).
 */
export function effectiveFormat(format: string, types: readonly string[]): string {
  if (format === '') return '';
  const type = types.length === 1 ? (types[0] ?? '') : '';
  switch (type) {
    case '':
    case 'string':
      return SUPPORTED.has(normalize(format)) ? format : '';
    case 'integer':
      return format === 'int32' || format === 'int64' ? format : '';
    case 'number':
      return format === 'float' || format === 'double' ? format : '';
    default:
      return '';
  }
}

/** Whether a string format is one the registry knows (it is then checked on string values). */
export const isStringFormat = (format: string): boolean => format !== '' && SUPPORTED.has(normalize(format));

const IPV4_PART = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|0?[0-9]?[0-9]|00[0-9])';
const IPV4 = new RegExp(`^${IPV4_PART}(\\.${IPV4_PART}){3}$`);
const HEX4 = '[0-9a-fA-F]{1,4}';

function isIPv4Sloppy(s: string): boolean {
  return IPV4.test(s);
}

/** net.ParseIP's IPv6 forms (with an optional trailing dotted IPv4), no zones. */
function isIPv6(s: string): boolean {
  let text = s;
  let groups = 8;
  const lastColon = text.lastIndexOf(':');
  if (lastColon >= 0 && text.slice(lastColon + 1).includes('.')) {
    if (!isIPv4Sloppy(text.slice(lastColon + 1))) return false;
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return false;
  const part = (h: string): string[] | null => {
    if (h === '') return [];
    const g = h.split(':');
    return g.every((x) => new RegExp(`^${HEX4}$`).test(x)) ? g : null;
  };
  const head = part(halves[0] ?? '');
  if (head === null) return false;
  if (halves.length === 1) return head.length === groups;
  const tail = part(halves[1] ?? '');
  if (tail === null) return false;
  groups -= 1;
  return head.length + tail.length <= groups;
}

const ip = (s: string): boolean => isIPv4Sloppy(s) || isIPv6(s);

function isCidr(s: string): boolean {
  const slash = s.indexOf('/');
  if (slash < 0) return false;
  const addr = s.slice(0, slash);
  const bits = s.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(bits)) return false;
  if (isIPv4Sloppy(addr)) return Number(bits) <= 32;
  return isIPv6(addr) && Number(bits) <= 128;
}

function isDate(s: string): boolean {
  const m = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/.exec(s);
  if (m === null) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0;
  return day <= days;
}

const TIME = /^([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))$/;

/** strfmt.IsDateTime: a full-date, `t`, and a time with a zone (checked loosely, as Kubernetes does). */
function isDateTime(s: string): boolean {
  if (s.length < 4) return false;
  const parts = s.toLowerCase().split('t');
  if (parts.length < 2 || !isDate(parts[0] ?? '')) return false;
  const m = TIME.exec(parts[1] ?? '');
  if (m === null) return false;
  return (m[1] ?? '') <= '23' && (m[2] ?? '') <= '59' && (m[3] ?? '') <= '59';
}

const GO_DURATION = /^[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+$/;
const UNITS: readonly (readonly string[])[] = [['ns', 'nano'], ['us', 'µs', 'micro'], ['ms', 'milli'], ['s', 'sec'], ['m', 'min'], ['h', 'hr', 'hour'], ['d', 'day'], ['w', 'wk', 'week']];

/** time.ParseDuration, or strfmt's "3 days"-style fallback. */
function isDuration(s: string): boolean {
  if (s === '0' || /^[-+]0$/.test(s) || GO_DURATION.test(s)) return true;
  for (const m of s.matchAll(/(\d+)\s*([A-Za-zµ]+)/g)) {
    const unit = (m[2] ?? '').trim().toLowerCase();
    for (const variants of UNITS) {
      const last = variants.length - 1;
      if (variants.some((v, i) => (i === last && unit.startsWith(v)) || v === unit)) return true;
    }
  }
  return false;
}

const HOSTNAME =
  /^([a-zA-Z0-9\p{S}\p{L}]((-?[a-zA-Z0-9\p{S}\p{L}]{0,62})?)|([a-zA-Z0-9\p{S}\p{L}](([a-zA-Z0-9\-\p{S}\p{L}]{0,61}[a-zA-Z0-9\p{S}\p{L}])?)(\.)){1,}([a-zA-Z\p{L}]){2,63})$/u;

function isHostname(s: string): boolean {
  if (!HOSTNAME.test(s) || Buffer.byteLength(s) > 255) return false;
  return s.split('.').every((p) => Buffer.byteLength(p) <= 63);
}

function isMac(s: string): boolean {
  const octets = (sep: string): RegExp => new RegExp(`^[0-9a-fA-F]{2}(${sep === '-' ? '-' : ':'}[0-9a-fA-F]{2})+$`);
  for (const sep of [':', '-']) {
    if (octets(sep).test(s)) return [6, 8, 20].includes(s.split(sep).length);
  }
  if (/^[0-9a-fA-F]{4}(\.[0-9a-fA-F]{4})+$/.test(s)) return [3, 4, 10].includes(s.split('.').length);
  return false;
}

const SHORT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LONG_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const CHECKS: Readonly<Record<string, (s: string) => boolean>> = {
  datetime: isDateTime,
  date: isDate,
  byte: (s) => /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$/.test(s),
  password: () => true,
  uuid: (s) => /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(s),
  uuid3: (s) => /^[0-9a-f]{8}-?[0-9a-f]{4}-?3[0-9a-f]{3}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(s),
  uuid4: (s) => /^[0-9a-f]{8}-?[0-9a-f]{4}-?4[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$/i.test(s),
  uuid5: (s) => /^[0-9a-f]{8}-?[0-9a-f]{4}-?5[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$/i.test(s),
  ipv4: (s) => ip(s) && s.includes('.'),
  ipv6: (s) => ip(s) && s.includes(':'),
  cidr: isCidr,
  hostname: isHostname,
  mac: isMac,
  duration: isDuration,
  hexcolor: (s) => /^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/.test(s),
  rgbcolor: (s) => {
    const c = '\\s*(0|[1-9]\\d?|1\\d\\d?|2[0-4]\\d|25[0-5])\\s*';
    return new RegExp(`^rgb\\(${c},${c},${c}\\)$`).test(s);
  },
  bsonobjectid: (s) => /^[0-9a-fA-F]{24}$/.test(s),
  ssn: (s) => s.length === 11 && /^\d{3}[- ]?\d{2}[- ]?\d{4}$/.test(s),
  k8sshortname: (s) => s.length <= 63 && SHORT_NAME.test(s),
  k8slongname: (s) => s.length <= 253 && LONG_NAME.test(s),
  email: (s) => /^(?:[^<>]*<)?[^\s@<>()[\],;:"]+@[^\s@<>()[\],;:"]+(?:>)?$/.test(s.trim()),
  uri: (s) => /^([a-zA-Z][a-zA-Z0-9+.-]*:|\/)[^\s\p{Cc}]*$/u.test(s),
};

/** Whether `value` is valid in the string format `format` (unknown or unchecked formats accept everything). */
export function matchesFormat(format: string, value: string): boolean {
  const check = CHECKS[normalize(format)];
  return check === undefined ? true : check(value);
}
