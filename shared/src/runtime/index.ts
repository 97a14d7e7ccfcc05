/** Runtime helpers shared by the controller, the proxy and the CA: backoff, logging, config, lifecycle. */
export { backoffDelayMs, type BackoffOptions } from './backoff.js';
export { createLogger, silentLogger, isLogLevel, LOG_LEVELS, type Logger, type LogLevel, type LogOptions } from './log.js';
export { stateDir, localClusterDir, localClusterCaDir, DEFAULT_STATE_DIR, DEFAULT_LOCAL_CLUSTER } from './paths.js';
