/** k8s.io/api/authentication/v1: TokenRequest (kubectl create token), TokenReview, SelfSubjectReview (kubectl auth whoami). */
import type { PackageTable } from '../schema.js';

export const AUTHENTICATION: PackageTable = {
  package: 'k8s.io.api.authentication.v1',
  alias: 'authentication',
  messages: {
    TokenRequest: { 1: 'metadata meta.ObjectMeta', 2: 'spec TokenRequestSpec', 3: 'status TokenRequestStatus' },
    TokenRequestSpec: { 1: 'audiences []string', 3: 'boundObjectRef BoundObjectReference', 4: 'expirationSeconds *int64' },
    // The Go field is UID with JSON name `uid`; the protobuf field is named `uID`.
    BoundObjectReference: { 1: 'kind string', 2: 'apiVersion string', 3: 'name string', 4: 'uid string' },
    TokenRequestStatus: { 1: 'token string', 2: 'expirationTimestamp Time' },
    TokenReview: { 1: 'metadata meta.ObjectMeta', 2: 'spec TokenReviewSpec', 3: 'status TokenReviewStatus' },
    TokenReviewSpec: { 1: 'token string', 2: 'audiences []string' },
    TokenReviewStatus: { 1: 'authenticated bool', 2: 'user UserInfo', 3: 'error string', 4: 'audiences []string' },
    UserInfo: { 1: 'username string', 2: 'uid string', 3: 'groups []string', 4: 'extra map[string]ExtraValue' },
    SelfSubjectReview: { 1: 'metadata meta.ObjectMeta', 2: 'status SelfSubjectReviewStatus' },
    SelfSubjectReviewStatus: { 1: 'userInfo UserInfo' },
  },
};
