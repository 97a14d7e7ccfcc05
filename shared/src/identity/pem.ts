/** PEM armour (RFC 7468): encoding DER blocks and reading every block of a text. Pure. */

export interface PemBlock {
  /** The label between `BEGIN` and the dashes, e.g. `CERTIFICATE`. */
  readonly label: string;
  readonly der: Buffer;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END ([A-Z0-9 ]+)-----/g;
const BASE64 = /^[A-Za-z0-9+/=\s]*$/;

export function pemEncode(label: string, der: Uint8Array): string {
  const body = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

/** Every PEM block of `text`, in order. Throws on a block whose END label differs or whose body is not base64. */
export function pemDecodeAll(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const match of text.matchAll(BLOCK)) {
    const [, begin = '', body = '', end = ''] = match;
    if (begin !== end) throw new Error(`PEM block "BEGIN ${begin}" ends with "END ${end}"`);
    if (!BASE64.test(body)) throw new Error(`PEM block "${begin}" is not base64`);
    blocks.push({ label: begin, der: Buffer.from(body.replace(/\s+/g, ''), 'base64') });
  }
  return blocks;
}

/** The DER of each `label` block of `text`; other blocks are ignored. */
export function pemBlocks(text: string, label: string): Buffer[] {
  return pemDecodeAll(text)
    .filter((block) => block.label === label)
    .map((block) => block.der);
}

/** Splits concatenated PEM certificates into one normalised PEM string per certificate. */
export function splitPemCertificates(text: string): string[] {
  return pemBlocks(text, 'CERTIFICATE').map((der) => pemEncode('CERTIFICATE', der));
}
