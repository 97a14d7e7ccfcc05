/**
 * The API server's per-kind rules around admission (objects.ts' Strategy): the built-in kinds' defaults and
 * validation (defaults.ts: Pods, Services with their clusterIPs, Deployments, ReplicaSets) and
 * CustomResourceDefinitions' (crd/validate.ts).
 */
import { isDeepStrictEqual } from 'node:util';
import { defaultCrd, validateCrd, validateCrdStatus } from './crd/validate.js';
import { builtInStrategy } from './defaults.js';
import type { Strategy } from './objects.js';
import type { ResourceType } from './registry.js';
import { invalid } from './status.js';
import { replaceContents, type Store } from './store.js';

const CRDS = 'apiextensions.k8s.io/customresourcedefinitions';

const isCrd = (type: ResourceType): boolean => type.group === 'apiextensions.k8s.io' && type.kind === 'CustomResourceDefinition';


export interface StrategyOptions {
  /** Services get clusterIPs from it; without it Services are stored as given. */
  readonly serviceCidr?: string;
}

export function clusterStrategy(store: Store, options: StrategyOptions = {}): Strategy {
  const builtIn = builtInStrategy({
    ...(options.serviceCidr === undefined ? {} : { serviceCidr: options.serviceCidr }),
    services: () => store.list('/services'),
    serviceAccountAutomount: (namespace, name) => {
      const value = store.get('/serviceaccounts', namespace, name)?.['automountServiceAccountToken'];
      return typeof value === 'boolean' ? value : undefined;
    },
  });
  return {
    prepare(type, object, previous) {
      if (isCrd(type)) replaceContents(object, defaultCrd(object));
      else builtIn.prepare(type, object, previous);
    },
    validate(type, object, previous) {
      if (isCrd(type)) {
        replaceContents(object, defaultCrd(object));
        // A /status write changes only the status (objects.ts keeps the rest), so only the status is checked then.
        const statusOnly = previous !== undefined && isDeepStrictEqual(previous['spec'], object['spec']);
        const problems = statusOnly ? validateCrdStatus(object) : validateCrd(object, store.list(CRDS));
        if (problems.length > 0) throw invalid(type.kind, type, object.metadata.name, problems);
        return;
      }
      builtIn.validate(type, object, previous);
    },
  };
}
