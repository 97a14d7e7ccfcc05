/** The smi-reference §2 YAML samples, verbatim: shared by the decode and conversion tests. */
export const SMI_REFERENCE_SAMPLES = `
apiVersion: access.smi-spec.io/v1alpha1        # legacy flat shape
kind: TrafficTarget
metadata: {name: orders-from-web, namespace: shop}
destination: {kind: ServiceAccount, name: orders, namespace: shop, port: 8080}
specs:
- {kind: HTTPRouteGroup, name: orders-api, matches: [read]}
sources:
- {kind: ServiceAccount, name: web, namespace: shop}
---
apiVersion: access.smi-spec.io/v1alpha3        # port moved into a TCPRoute
kind: TrafficTarget
metadata: {name: orders-from-web, namespace: shop}
spec:
  destination: {kind: ServiceAccount, name: orders, namespace: shop}
  rules:
  - {kind: TCPRoute, name: orders-port}
  - {kind: HTTPRouteGroup, name: orders-api, matches: [read]}
  sources:
  - {kind: ServiceAccount, name: web, namespace: shop}
---
apiVersion: access.smi-spec.io/v1alpha4
kind: IdentityBinding
metadata: {name: orders, namespace: shop}
spec:
  schemes:
    serviceAccount: orders
    spiffeIdentities: ["cluster.local/ns/shop/sa/orders"]
---
apiVersion: access.smi-spec.io/v1alpha4
kind: TrafficTarget
metadata: {name: orders-from-web, namespace: shop}
spec:
  destination: {kind: IdentityBinding, group: access.smi-spec.io, name: orders, namespace: shop}
  rules: [{kind: TCPRoute, name: orders-port}]
  sources: [{kind: IdentityBinding, group: access.smi-spec.io, name: web, namespace: shop}]
---
apiVersion: specs.smi-spec.io/v1alpha4
kind: HTTPRouteGroup
metadata: {name: orders-api, namespace: shop}
spec:
  matches:
  - {name: read, pathRegex: "/orders(/.*)?", methods: [GET, HEAD]}
  - name: beta
    headers:
    - x-beta: "^on$"          # SDK list form; docs also show \`headers: {x-beta: "^on$"}\`
---
apiVersion: specs.smi-spec.io/v1alpha4
kind: TCPRoute
metadata: {name: orders-port, namespace: shop}
spec: {matches: {ports: [8080]}}
---
apiVersion: split.smi-spec.io/v1alpha1
kind: TrafficSplit
metadata: {name: cart-rollout, namespace: shop}
spec:
  service: cart
  backends:
  - {service: cart-v1, weight: "1"}     # 1000m
  - {service: cart-v2, weight: 500m}    # about 1/3 of traffic
---
apiVersion: split.smi-spec.io/v1alpha4
kind: TrafficSplit
metadata: {name: cart-ab, namespace: shop}
spec:
  service: cart
  matches: [{kind: HTTPRouteGroup, name: beta-users}]
  backends:
  - {service: cart-v1, weight: 0}
  - {service: cart-v2, weight: 100}
`;
