/**
 * The local cluster's built-in controllers, run in the API server's process against its objects: namespaces
 * (`default` ServiceAccount, `kube-root-ca.crt`), Deployments → ReplicaSets → Pods, Endpoints and EndpointSlices
 * from Services and Pods, and — when the options say where pods reach the API server — the `kubernetes` Service.
 */
import type { Logger } from '@loom/shared/runtime';
import type { Objects } from '../api/objects.js';
import { DeploymentController } from './deployments.js';
import { EndpointsController } from './endpoints.js';
import { EndpointSliceController } from './endpointslices.js';
import { KubernetesServiceController } from './kubernetes-service.js';
import { NamespaceController } from './namespaces.js';
import { ReplicaSetController, type PodCreator } from './replicasets.js';

export { DeploymentController, REVISION } from './deployments.js';
export { EndpointsController } from './endpoints.js';
export { EndpointSliceController, MANAGED_BY, MANAGED_BY_LABEL, SERVICE_NAME_LABEL } from './endpointslices.js';
export { KubernetesServiceController } from './kubernetes-service.js';
export { NamespaceController, ROOT_CA_CONFIGMAP } from './namespaces.js';
export { ReplicaSetController, type PodCreator } from './replicasets.js';
export { POD_TEMPLATE_HASH, podTemplateHash } from './hash.js';

export interface ControllersOptions {
  readonly log: Logger;
  /** The API server's CA (PEM), published in every namespace as `kube-root-ca.crt`. */
  readonly apiCaPem: string;
  /** The `kubernetes` Service: the service CIDR and where pods reach the API server. Not made when absent. */
  readonly kubernetesService?: { readonly serviceCidr: string; readonly address: string; readonly port: number };
  /**
   * How ReplicaSets create pods. Default: straight into the store ({@link Objects.create}). Pass the API's admission
   * pipeline here so that mutating webhooks (a sidecar injector) see controller-made pods, as on a real cluster.
   */
  readonly createPod?: PodCreator;
  /** The clock of conditions and availability (tests). */
  readonly now?: () => number;
}

export interface Controllers {
  /** Stops every controller: no watch, no scheduled work, no timer is left. */
  stop(): void;
  /**
   * Resolves once no controller has work scheduled or under way (two quiet turns of the event loop in a row); rejects
   * after `timeoutMs` of continuous activity.
   */
  settled(timeoutMs?: number): Promise<void>;
}

interface Controller {
  start(): void;
  stop(): void;
  readonly pending: boolean;
}

export function startControllers(objects: Objects, options: ControllersOptions): Controllers {
  const log = options.log.child({ component: 'controllers' });
  const clock = options.now === undefined ? {} : { now: options.now };
  const controllers: Controller[] = [
    new NamespaceController(objects, { log, apiCaPem: options.apiCaPem }),
    new DeploymentController(objects, { log, ...clock }),
    new ReplicaSetController(objects, { log, ...clock, ...(options.createPod === undefined ? {} : { createPod: options.createPod }) }),
    new EndpointsController(objects, { log }),
    new EndpointSliceController(objects, { log }),
  ];
  const k = options.kubernetesService;
  if (k !== undefined) controllers.push(new KubernetesServiceController(objects, { log, serviceCidr: k.serviceCidr, address: k.address, port: k.port }));
  for (const c of controllers) c.start();
  let stopped = false;
  return {
    stop() {
      stopped = true;
      for (const c of controllers) c.stop();
    },
    async settled(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      let quiet = 0;
      while (!stopped && quiet < 2) {
        if (Date.now() > deadline) throw new Error(`the controllers did not settle within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => setImmediate(resolve));
        quiet = controllers.some((c) => c.pending) ? 0 : quiet + 1;
      }
    },
  };
}
