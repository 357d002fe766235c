// The plugin SDK: everything a provider or trigger plugin may use, published as `enrichbot/sdk`.
// A plugin imports nothing else from the core (the boundary check in .dependency-cruiser.cjs
// fails CI otherwise), so what is here is the promise and everything else may change.

// The contract: definitions, contexts, lookup inputs and results.
export { defineProvider, defineTrigger } from '../plugin/contract.js';
export type * from '../plugin/contract.js';
// What the service hands triggers (jobs, batches, records, reports, leases, schedules, CSV).
export type * from '../plugin/service.js';

// zod, for config and response schemas: the same instance the registry validates with.
export { z } from 'zod';

// Canonical field names and their schemas.
export { COMPANY_FIELDS, FIELD_GROUP_NAMES, FIELD_GROUPS, FIELD_SCHEMAS, PERSON_FIELDS, isFieldPath } from '../engine/fields.js';
export type { CompanyField, FieldGroup, FieldPath, PersonField } from '../engine/fields.js';

// Provider failures: the kind decides retry, breaker and caching.
export { ProviderError, parseRetryAfter } from '../engine/provider-error.js';
export type { ProviderErrorKind } from '../engine/provider-error.js';
export type { ProviderHttp, ProviderRequest, ProviderResponse } from '../net/provider-http.js';
export type { SafeFetch, SafeFetchOptions, SafeFetchResponse } from '../net/safe-fetch.js';
export type { ProviderSettings } from '../config/schema.js';

// Value cleaners: a bad value from a provider is dropped, domains and LinkedIn URLs made canonical.
export { clean, defined, domainOf, dropEmpty, httpUrl, linkedinUrl, workEmail } from '../plugin/field-values.js';
export type { Fields } from '../plugin/field-values.js';
// How a card shows a work email whose domain accepts every address (catch-all).
export { CATCH_ALL_TEXT, personForCard } from '../plugin/email-deliverability.js';
export { normalizeDomain, normalizeEmail, normalizeLinkedinUrl } from '../engine/identity.js';
export { evidenceLine } from '../plugin/evidence-line.js';
// A person's job change (issue 21) in one sentence.
export { describeJobChange } from '../plugin/job-change-text.js';

// Tokens at rest: AES-256-GCM under a plugin's key setting (Slack installations, HubSpot OAuth).
export { TokenCipher, TokenKeysSchema } from '../platform/token-cipher.js';
export type { Sealed, TokenCipherLabels, TokenKey } from '../platform/token-cipher.js';

// Coded errors: a plugin throws these so users see a code and what to do; its own codes come
// from defineErrors and are declared on its definition (`errors`).
export { EnrichbotError, ErrorCodes, defineErrors, errorMessage, isEnrichbotError } from '../errors.js';
export type { ErrorCode, PluginErrorCode } from '../errors.js';

// CLI commands a plugin adds (`cli`): commander's Command, as the core passes it.
export type { Command } from 'commander';

// Time and logging, as injected in every context (ManualClock for tests).
export { ManualClock, systemClock, utcDay } from '../clock.js';
export type { Clock } from '../clock.js';
export type { Logger } from '../logger.js';
