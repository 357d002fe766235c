// DELETE /v1/people/:identifier and DELETE /v1/companies/:domain: a privacy request from another
// system runs the service's forget (records, cache, jobs, batch items scrubbed; a tombstone so
// the identity is never enriched again in this workspace), as `enrichbot forget` does. The
// identifier must be of the route's kind: an email or LinkedIn profile for a person, a domain
// for a company, so a mistyped call cannot forget the wrong subject.
import type { Router } from 'express';
import type { TriggerContext } from '../../../src/sdk/index.js';
import { normalizeDomain, normalizeEmail, normalizeLinkedinUrl } from '../../../src/sdk/index.js';
import { ErrorCodes, isEnrichbotError } from '../../../src/sdk/index.js';
import type { HttpApiConfig } from './config.js';
import { callerKey, requireScope } from './auth.js';
import { validationProblem } from './problem.js';

function personIdentifier(raw: string): string {
  if (/linkedin\.com\//i.test(raw)) {
    const li = normalizeLinkedinUrl(raw);
    if (li.kind !== 'person') throw new Error(`"${raw}" is a company page: use DELETE /v1/companies/<domain> for a company.`);
    return li.url;
  }
  return normalizeEmail(raw);
}

function checked(parse: (raw: string) => string, raw: string, path: string): string {
  try {
    return parse(raw);
  } catch (err) {
    throw validationProblem([{ path, message: (err as Error).message }], 'The path');
  }
}

export function mountPrivacyRoutes(router: Router, ctx: TriggerContext<HttpApiConfig>): void {
  const forget = (subject: string, res: import('express').Response) => {
    const key = callerKey(res);
    return ctx.service.forget(key.workspace, subject, `api:${key.id}`).catch((err: unknown) => {
      if (isEnrichbotError(err, ErrorCodes.INPUT_INVALID)) throw validationProblem([{ path: 'identifier', message: err.message }], 'The path');
      throw err;
    });
  };

  router.delete('/people/:identifier', requireScope('privacy'), async (req, res) => {
    const subject = checked(personIdentifier, String(req.params.identifier), 'identifier');
    const report = await forget(subject, res);
    res.json({ forgotten: report.display, removed: report.removed });
  });

  router.delete('/companies/:domain', requireScope('privacy'), async (req, res) => {
    const domain = checked(normalizeDomain, String(req.params.domain), 'domain');
    const report = await forget(domain, res);
    res.json({ forgotten: report.display, removed: report.removed });
  });
}
