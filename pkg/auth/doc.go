// Package auth authenticates Triggers' callers.
//
// Producers and consumers hold API keys (trg_<id>_<secret>), stored only as
// argon2id hashes in a Credentials document. POST /token exchanges a key for
// a short-lived HS256 JWT (Authenticator.IssueToken); every other request
// presents that token, and Authenticator.Authorize turns the Authorization
// header into a Principal. Authorize is the single check shared by the
// single binary's HTTP middleware and the AWS Lambda authorizer.
//
// Credentials come from a Keyring: FileKeyring for the single binary's
// credentials.json, and a Secrets Manager keyring on AWS; both serve the
// same JSON document. Verification always uses the keyring's current
// document, so removing a signing key, revoking an API key or taking a
// scope away affects tokens already issued as soon as the keyring sees it.
//
// Errors are *event.Error: CodeUnauthorized with a client-safe Message (never
// the token or key; library detail only in Err), or CodeUnavailable when the
// keyring cannot be read. Nothing here logs, and the types that hold secrets
// (APIKey, Credentials, Token) redact them when printed or logged.
//
// See docs/auth.md for formats, rotation, revocation and the threat model.
package auth
