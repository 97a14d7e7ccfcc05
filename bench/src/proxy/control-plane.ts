/**
 * The Loom pair's control-plane stand-in: this script run with `--agent control-plane` inside the server
 * namespace (pairs/loom.ts starts it). It runs e2e's {@link ControlPlane} — the controller's real identity
 * service with the run's CA, and the policy server of `@loom/proxy/testing` on the same gRPC port — and publishes
 * what the controller's real compiler makes of the pair's manifests (pairs/loom-mesh.ts). Driven over IPC like
 * the other agents: `start` once, then it serves until the orchestrator disconnects.
 */
import { decodeMaterial, type CaFiles } from '@loom/ca';
import { caFrom } from '@loom/ca/testing';
import { ControlPlane, CONTROLLER_SERVER_NAME, TRUST_DOMAIN } from '@loom/e2e';
import { serveOrchestrator } from './ipc.js';
import { loomMeshManifests, type LoomMeshLayout } from './pairs/loom-mesh.js';

export interface ControlPlaneStart {
  /** The run's CA (`encodeMaterial`), and its trust domain. */
  readonly caFiles: CaFiles;
  readonly trustDomain: string;
  readonly host: string;
  readonly port: number;
  /** Token → the ServiceAccount it proves (the stand-in for TokenReview). */
  readonly tokens: readonly (readonly [string, { readonly namespace: string; readonly serviceAccount: string }])[];
  readonly layout: LoomMeshLayout;
}

export interface ControlPlaneStarted {
  readonly port: number;
  /** The DNS name of the serving certificate (LOOM_CONTROLLER_SERVER_NAME) and the mesh's trust domain. */
  readonly serverName: string;
  readonly trustDomain: string;
  /** `namespace/pod` of every policy published. */
  readonly pods: readonly string[];
}

export function runControlPlaneAgent(): void {
  let control: ControlPlane | null = null;
  serveOrchestrator(
    {
      start: async (body): Promise<ControlPlaneStarted> => {
        if (control !== null) throw new Error('the control plane is already running');
        const options = body as ControlPlaneStart;
        if (options.trustDomain !== TRUST_DOMAIN) throw new Error(`the run's CA is for trust domain ${options.trustDomain}; the control plane issues for ${TRUST_DOMAIN}`);
        const ca = caFrom(decodeMaterial(options.caFiles, Date.now()), { trustDomain: options.trustDomain });
        control = new ControlPlane({ ca, host: options.host, port: options.port, tokens: new Map(options.tokens) });
        await control.start();
        const published = control.publish(loomMeshManifests(options.layout));
        return { port: control.port, serverName: CONTROLLER_SERVER_NAME, trustDomain: TRUST_DOMAIN, pods: [...published.keys()] };
      },
      acks: () => (control === null ? [] : control.distributor.acks.map((a) => a.pod)),
    },
    () => {
      const timer = setTimeout(() => process.exit(0), 1_000);
      void (control?.kill() ?? Promise.resolve()).finally(() => {
        clearTimeout(timer);
        process.exit(0);
      });
    },
  );
}
