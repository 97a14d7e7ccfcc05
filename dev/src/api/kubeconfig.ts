/** The kubeconfig `loom dev up` writes for kubectl and client libraries. Pure. */

export interface KubeconfigInput {
  /** The cluster's name; the context, cluster and user are named after it (`loom-dev-<name>`). */
  readonly name: string;
  /** `https://127.0.0.1:<port>`. */
  readonly server: string;
  readonly caPem: string;
  readonly token: string;
  readonly namespace?: string;
}

/** YAML of a kubeconfig with one cluster, one token user and one (current) context. */
export function kubeconfig(input: KubeconfigInput): string {
  const id = `loom-dev-${input.name}`;
  const ca = Buffer.from(input.caPem).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${id}`,
    '  cluster:',
    `    server: ${input.server}`,
    `    certificate-authority-data: ${ca}`,
    'users:',
    `- name: ${id}-admin`,
    '  user:',
    `    token: ${input.token}`,
    'contexts:',
    `- name: ${id}`,
    '  context:',
    `    cluster: ${id}`,
    `    user: ${id}-admin`,
    `    namespace: ${input.namespace ?? 'default'}`,
    `current-context: ${id}`,
    'preferences: {}',
    '',
  ].join('\n');
}
