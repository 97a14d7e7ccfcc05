/**
 * The few `Reflect` metadata functions @peculiar/x509's dependency injection (tsyringe) insists on finding
 * at load time (normally from the reflect-metadata package, which the workspace does not install). Import
 * this module before @peculiar/x509. It keeps metadata per target, key and property; nothing in Loom reads it.
 */
const stores = new WeakMap<object, Map<string, unknown>>();

const slot = (metadataKey: unknown, property: string | symbol | undefined): string =>
  `${String(metadataKey)}\u0000${property === undefined ? '' : String(property)}`;

interface MetadataApi {
  getOwnMetadata?: (metadataKey: unknown, target: object, property?: string | symbol) => unknown;
  getMetadata?: (metadataKey: unknown, target: object, property?: string | symbol) => unknown;
  defineMetadata?: (metadataKey: unknown, value: unknown, target: object, property?: string | symbol) => void;
  metadata?: (metadataKey: unknown, value: unknown) => (target: object, property?: string | symbol) => void;
}

const api = Reflect as unknown as MetadataApi;
if (api.getMetadata === undefined) {
  const getOwn = (metadataKey: unknown, target: object, property?: string | symbol): unknown => stores.get(target)?.get(slot(metadataKey, property));
  const define = (metadataKey: unknown, value: unknown, target: object, property?: string | symbol): void => {
    let store = stores.get(target);
    if (store === undefined) stores.set(target, (store = new Map<string, unknown>()));
    store.set(slot(metadataKey, property), value);
  };
  api.getOwnMetadata = getOwn;
  api.getMetadata = (metadataKey, target, property) => {
    for (let t: object | null = target; t !== null; t = Object.getPrototypeOf(t) as object | null) {
      const value = getOwn(metadataKey, t, property);
      if (value !== undefined) return value;
    }
    return undefined;
  };
  api.defineMetadata = define;
  api.metadata = (metadataKey, value) => (target, property) => define(metadataKey, value, target, property);
}

export {};
