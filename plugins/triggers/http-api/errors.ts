// The HTTP API's coded errors (the `code` of its problem+json answers), declared on its
// definition (`errors`) so start-up checks that neither the core nor another plugin uses them.
import { defineErrors } from '../../../src/sdk/index.js';

export const HttpApiErrors = defineErrors({
  API_KEY_INVALID: 'The request has no API key, or one that is unknown, revoked or expired: send "Authorization: Bearer <key>" with a key from `enrichbot api-key create`.',
  API_KEY_NOT_FOUND: 'No API key has that id: `enrichbot api-key list` shows the ids.',
  API_KEY_SCOPE: 'The key lacks the scope this call needs: make a key with it (`enrichbot api-key create --scope ...`).',
  RATE_LIMITED: "The key's requests or items per minute or per day are used up: wait Retry-After seconds, or raise the key's limits.",
  IDEMPOTENCY_CONFLICT: 'The Idempotency-Key was used for another request, or its first request is still being answered: use a new key, or retry after 1 s.',
});
