/** Runtime helpers shared by the controller, the proxy, the CA and the local cluster: backoff, logging, paths, command-line parsing. */
export { backoffDelayMs, type BackoffOptions } from './backoff.js';
export { createLogger, silentLogger, isLogLevel, LOG_LEVELS, type Logger, type LogLevel, type LogOptions } from './log.js';
export { stateDir, localClusterDir, localClusterCaDir, DEFAULT_STATE_DIR, DEFAULT_LOCAL_CLUSTER } from './paths.js';
export { parseArgs, closest, editDistance, UsageError, type FlagSpec, type FlagSpecs, type FlagValue, type ParsedArgs, type ParseOptions } from './args.js';
export { isEntryPoint, runIfEntryPoint, type Io } from './entry.js';
