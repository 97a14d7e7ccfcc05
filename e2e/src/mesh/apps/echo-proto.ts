/** The e2e echo gRPC service (e2e/proto/echo.proto), loaded at run time. */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPackageDefinition, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

export interface Msg {
  text: string;
  pod: string;
}

export function echoService(): ServiceClientConstructor {
  const file = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'proto', 'echo.proto');
  const definition = loadSync(file, { keepCase: true, defaults: true });
  const pkg = loadPackageDefinition(definition) as unknown as { loom: { e2e: { echo: { Echo: ServiceClientConstructor } } } };
  return pkg.loom.e2e.echo.Echo;
}
