/** Runtime helpers shared by the controller, the proxy and the CA: backoff, logging, config, lifecycle. */
export { backoffDelayMs, type BackoffOptions } from './backoff.js';
