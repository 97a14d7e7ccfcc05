/**
 * `/openapi/v2`: the smallest Swagger 2.0 document kubectl accepts, as JSON or as the protobuf kubectl asks for
 * (gnostic's openapi_v2.Document). Pure.
 *
 * kubectl 1.32 reads /openapi/v2 only when /openapi/v3 cannot answer: to validate a `kind: List` client-side
 * (`kubectl apply|create|replace -f` with the default `--validate=strict`: field validation is never delegated to
 * the server for v1/List, so kubectl looks each item's kind up in /openapi/v2, and fails on a 404), when the
 * /openapi/v3 documents cannot be fetched, as a fallback of `kubectl apply|diff` for strategic merge patch
 * metadata, and for `kubectl explain --output plaintext-openapiv2`. A document with no definitions and no paths
 * satisfies all of them: kubectl finds no schema for any kind, so it skips client-side validation (the server
 * still validates, `fieldValidation=Strict`), computes patches from the types compiled into it as it does today,
 * and `explain` says it cannot find the resource.
 */
import { lengthDelimited } from './wire.js';

/**
 * The media type of the protobuf document as the API server labels it. Clients ask for it in the older spelling
 * `...spec.v2@v1.0+protobuf` (kubectl does), which the API server also accepts; it answers with this one because
 * `@` is not allowed in a media type and Go's mime parser, which kubectl runs on the answer, refuses it.
 */
export const OPENAPI_V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

const ACCEPTED = new Set([OPENAPI_V2_PROTOBUF, 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf']);

/** Whether an Accept header asks for the protobuf document (in either spelling). */
export const wantsOpenApiV2Protobuf = (accept: string | undefined): boolean =>
  (accept ?? '')
    .split(',')
    .some((part) => ACCEPTED.has(part.split(';')[0]?.trim().toLowerCase() ?? ''));

/** The JSON document: `{ swagger: '2.0', info: { title, version }, paths: {} }`. */
export const openApiV2Document = (version: string): Record<string, unknown> => ({ swagger: '2.0', info: { title: 'Kubernetes', version }, paths: {} });

/** The same document as an openapi_v2.Document message: swagger = 1, info = 2 { title = 1, version = 2 }, paths = 8. */
export const encodeOpenApiV2Document = (version: string): Uint8Array =>
  Buffer.concat([lengthDelimited(1, '2.0'), lengthDelimited(2, Buffer.concat([lengthDelimited(1, 'Kubernetes'), lengthDelimited(2, version)])), lengthDelimited(8, new Uint8Array(0))]);
