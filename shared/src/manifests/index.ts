/** `@loom/shared/manifests`: manifest files → raw objects. */
export * from './parse.js';
