/**
 * Policies for codec, hash and stream tests: one rich policy exercising every field and every `null` vs `[]`
 * distinction of the model, and a minimal one. Certificates are placeholders, not real certificates.
 */
import { withVersion, type PolicyContent } from '../../src/policy/hash.js';
import type { HttpRoute, ProxyPolicy } from '../../src/policy/model.js';

const TD = 'spiffe://cluster.local';

/** PEM-shaped text that is not a certificate (base64 of "not a certificate N"). */
export function placeholderPem(n: number): string {
  return `-----BEGIN CERTIFICATE-----\n${Buffer.from(`not a certificate ${n}`).toString('base64')}\n-----END CERTIFICATE-----\n`;
}

const cartMatch: HttpRoute = {
  route: { kind: 'HTTPRouteGroup', namespace: 'shop', name: 'cart-routes', match: 'checkout' },
  pathRegex: '/cart/[0-9]+/checkout',
  methods: ['GET', 'POST'],
  headers: [
    { name: 'user-agent', value: '.*Mobile.*' },
    { name: 'x-canary', value: 'yes|true' },
  ],
};

const anyRequest: HttpRoute = {
  route: { kind: 'HTTPRouteGroup', namespace: 'shop', name: 'everything' },
  pathRegex: null,
  methods: null,
  headers: [],
};

const emptyButPresent: HttpRoute = {
  route: { kind: 'HTTPRouteGroup', namespace: 'shop', name: 'root-only', match: 'root' },
  pathRegex: '',
  methods: [],
  headers: [{ name: 'x-empty', value: '' }],
};

export const richContent: PolicyContent = {
  proxy: {
    namespace: 'shop',
    pod: 'cart-7d9f8b6c5-x2x7q',
    serviceAccount: 'cart',
    identity: `${TD}/ns/shop/sa/cart`,
    workload: 'cart',
  },
  mesh: { mode: 'strict', allowUnmeshed: true, pathMatch: 'full', outboundUnknown: 'deny' },
  trustBundle: [placeholderPem(1), placeholderPem(2)],
  inbound: {
    ports: [
      { port: 53, protocol: 'detect' },
      { port: 5432, protocol: 'opaque' },
      { port: 8080, protocol: 'http1' },
      { port: 8443, protocol: 'http2' },
      { port: 9090, protocol: 'grpc' },
    ],
    authorizations: [
      {
        // audited HTTP rules on one port
        trafficTarget: { namespace: 'shop', name: 'frontend-to-cart' },
        audit: true,
        sources: [`${TD}/ns/shop/sa/frontend`, `${TD}/ns/web/sa/gateway`],
        ports: [8080],
        udpPorts: [],
        http: [cartMatch, anyRequest, emptyButPresent],
        l4Routes: [],
      },
      {
        // TCPRoute without ports: every port, no HTTP restriction
        trafficTarget: { namespace: 'shop', name: 'ops-any' },
        audit: false,
        sources: [],
        ports: null,
        udpPorts: null,
        http: null,
        l4Routes: [{ kind: 'TCPRoute', namespace: 'shop', name: 'all-tcp' }],
      },
      {
        // UDP only; HTTP rules that all failed to resolve: admits no HTTP request
        trafficTarget: { namespace: 'shop', name: 'dns' },
        audit: false,
        sources: [`${TD}/ns/kube-system/sa/coredns`],
        ports: [],
        udpPorts: [53, 5353],
        http: [],
        l4Routes: [
          { kind: 'TCPRoute', namespace: 'shop', name: 'tcp-none' },
          { kind: 'UDPRoute', namespace: 'shop', name: 'dns-udp' },
        ],
      },
    ],
  },
  outbound: [
    {
      service: { namespace: 'shop', name: 'catalog' },
      vips: ['10.96.0.10', 'fd00:10:96::a'],
      headless: false,
      ports: [
        {
          port: 80,
          name: 'http',
          protocol: 'http1',
          endpoints: [
            { address: '10.244.1.5', port: 8080, identity: `${TD}/ns/shop/sa/catalog`, pod: { namespace: 'shop', name: 'catalog-1' }, ready: true },
            { address: '10.244.1.6', port: 8080, identity: null, pod: { namespace: 'shop', name: 'legacy-1' }, ready: true },
            { address: '10.244.9.9', port: 8080, identity: null, pod: null, ready: false },
          ],
          split: {
            trafficSplit: { namespace: 'shop', name: 'catalog-canary' },
            matches: [cartMatch, anyRequest],
            backends: [
              {
                service: { namespace: 'shop', name: 'catalog-v1' },
                weight: 900,
                endpoints: [{ address: '10.244.2.1', port: 8080, identity: `${TD}/ns/shop/sa/catalog`, pod: { namespace: 'shop', name: 'catalog-v1-a' }, ready: true }],
              },
              {
                service: { namespace: 'shop', name: 'catalog-v2' },
                weight: 100,
                endpoints: [{ address: 'fd00:10:244::7', port: 8081, identity: `${TD}/ns/shop/sa/catalog-v2`, pod: null, ready: true }],
              },
            ],
          },
        },
        { port: 5432, protocol: 'opaque', endpoints: [], split: null },
      ],
    },
    {
      // headless: no VIPs, clients dial endpoints
      service: { namespace: 'shop', name: 'db' },
      vips: [],
      headless: true,
      ports: [
        {
          port: 5432,
          name: 'tcp-postgres',
          protocol: 'opaque',
          endpoints: [{ address: '10.244.3.3', port: 5432, identity: `${TD}/ns/shop/sa/db`, pod: { namespace: 'shop', name: 'db-0' }, ready: true }],
          split: null,
        },
      ],
    },
    {
      // a split without matches (all traffic), one huge weight, one with no endpoints listed
      service: { namespace: 'web', name: 'search' },
      vips: ['10.96.5.5'],
      headless: false,
      ports: [
        {
          port: 9090,
          protocol: 'grpc',
          endpoints: [],
          split: {
            trafficSplit: { namespace: 'web', name: 'search-split' },
            matches: null,
            backends: [
              { service: { namespace: 'web', name: 'search-a' }, weight: 2 ** 40, endpoints: [] },
              { service: { namespace: 'web', name: 'search' }, weight: 1, endpoints: [] },
            ],
          },
        },
        {
          port: 9091,
          protocol: 'detect',
          endpoints: [],
          split: { trafficSplit: { namespace: 'web', name: 'empty-matches' }, matches: [], backends: [] },
        },
      ],
    },
    { service: { namespace: 'web', name: 'portless' }, vips: ['10.96.7.7'], headless: false, ports: [] },
  ],
};

export const rich: ProxyPolicy = withVersion(richContent);

export const minimalContent: PolicyContent = {
  proxy: { namespace: 'a', pod: 'p', serviceAccount: 'default', identity: `${TD}/ns/a/sa/default`, workload: 'p' },
  mesh: { mode: 'permissive', allowUnmeshed: false, pathMatch: 'prefix', outboundUnknown: 'passthrough' },
  trustBundle: [],
  inbound: { ports: [], authorizations: [] },
  outbound: [],
};

export const minimal: ProxyPolicy = withVersion(minimalContent);
