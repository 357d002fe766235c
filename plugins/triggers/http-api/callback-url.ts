// A request's callbackUrl is checked when it is submitted, so a bad one is a 400 at once rather
// than a delivery that fails for 24 h: public hosts only (the SSRF guard that fetches company
// homepages; loopback only where net.allowPrivateHosts opens it, in tests), no credentials in
// the URL, and a key that can sign (keys made before webhooks have no secret).
import type { Collection } from 'mongodb';
import type { SafeFetch } from '../../../src/sdk/index.js';
import { ErrorCodes, isEnrichbotError } from '../../../src/sdk/index.js';
import { hasWebhookSecret } from './api-keys.js';
import { validationProblem } from './problem.js';

const refuse = (message: string) => validationProblem([{ path: 'callbackUrl', message }]);

export function callbackChecker(keys: Collection, safeFetch: SafeFetch) {
  return async (keyId: string, raw: string): Promise<void> => {
    const url = new URL(raw);
    if (url.username || url.password) throw refuse('a callback URL cannot carry credentials: put a token in its path or query, and verify Enrichbot-Signature');
    if (!(await hasWebhookSecret(keys, keyId))) throw refuse('this key was made before webhooks and has no signing secret: create a new key (`enrichbot api-key create`) to use callbackUrl');
    try {
      await safeFetch.checkHost(url.hostname);
    } catch (err) {
      if (isEnrichbotError(err, ErrorCodes.URL_REFUSED)) throw refuse(`${url.hostname} is (or resolves to) a private, loopback or link-local address: give a public http(s) URL`);
      if (isEnrichbotError(err, ErrorCodes.FETCH_FAILED)) throw refuse(`${url.hostname} does not resolve: check the host name`);
      throw err;
    }
  };
}
