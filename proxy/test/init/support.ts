/** What the proxy-init tests share: a CIDR from text (throwing on a bad one), and the settings of a default pod. */
import { parseCidr, type Cidr } from '../../src/init/cidr.js';
import type { InitSettings } from '../../src/init/plan.js';

export const cidr = (text: string): Cidr => {
  const parsed = parseCidr(text);
  if (typeof parsed === 'string') throw new Error(parsed);
  return parsed;
};

/** proxy-init's settings for a pod with no annotations (DESIGN §6 ports, UID/GID 2502, nothing skipped). */
export const DEFAULTS: InitSettings = Object.freeze({
  proxyUid: 2502,
  proxyGid: 2502,
  inboundPort: 15006,
  outboundPort: 15001,
  adminPort: 15020,
  skipInboundPorts: [],
  skipOutboundPorts: [],
  skipOutboundCidrs: [],
});
