/**
 * The error every patch function throws for a patch it cannot apply. `message` is one line, phrased
 * like the Kubernetes API server's, and becomes the `message` of the Status the API answers with.
 */
export class PatchError extends Error {
  override readonly name = 'PatchError';
  /**
   * The HTTP status the API server answers with, as Kubernetes does: 400 (BadRequest) for a
   * malformed patch, 413 (Request Entity Too Large) for a JSON patch of more than 10000
   * operations, 422 (Unprocessable Entity) for a well-formed patch that cannot be applied to this
   * object (a JSON patch whose path does not exist or whose `test` fails, a list of lists).
   */
  readonly status: 400 | 413 | 422;

  constructor(message: string, status: 400 | 413 | 422 = 400) {
    super(message);
    this.status = status;
  }
}
