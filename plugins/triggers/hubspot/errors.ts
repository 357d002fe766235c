// The HubSpot trigger's coded errors, declared on its definition (`errors`) so start-up checks
// that neither the core nor another plugin uses the same codes.
import { defineErrors } from '../../../src/sdk/index.js';

export const HubspotErrors = defineErrors({
  HUBSPOT_API_FAILED: "HubSpot's API refused or failed a call: the message gives HubSpot's status and reason. Check the token and its scopes (README), or HubSpot's status page.",
  HUBSPOT_BUDGET_REACHED: "The day's HubSpot request budget (triggers.hubspot.limits.dailyBudget) is used up: raise it, or wait for the next UTC day.",
});
