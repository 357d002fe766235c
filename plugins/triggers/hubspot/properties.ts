// enrichbot's own HubSpot properties, in an `enrichbot` group on contacts and companies.
// `ensureProperties` is idempotent: an existing group or property (HubSpot answers 409) is left.
import type { HubspotApi, ObjectType } from './hubspot-api.js';
import { HubspotApiError } from './hubspot-api.js';

export const GROUP = { name: 'enrichbot', label: 'enrichbot', displayOrder: -1 };

interface PropertyDef {
  name: string;
  label: string;
  type: 'string' | 'number' | 'date' | 'datetime' | 'enumeration';
  fieldType: 'text' | 'textarea' | 'number' | 'date' | 'select';
  description: string;
  options?: { label: string; value: string; displayOrder: number; hidden: boolean }[];
  objectTypes: ObjectType[];
}

const statuses = ['valid', 'invalid', 'catch_all', 'unknown', 'risky'];

export const PROPERTIES: PropertyDef[] = [
  { name: 'enrichbot_last_enriched_at', label: 'enrichbot: last enriched at', type: 'datetime', fieldType: 'date', description: 'When enrichbot last enriched this record.', objectTypes: ['contacts', 'companies'] },
  { name: 'enrichbot_sources', label: 'enrichbot: sources', type: 'string', fieldType: 'text', description: 'The providers whose answers enrichbot used.', objectTypes: ['contacts', 'companies'] },
  { name: 'enrichbot_confidence', label: 'enrichbot: confidence', type: 'number', fieldType: 'number', description: 'Average confidence (0-1) of the values enrichbot found.', objectTypes: ['contacts', 'companies'] },
  { name: 'enrichbot_job_change_date', label: 'enrichbot: job change date', type: 'date', fieldType: 'date', description: 'When a refresh found that this person changed company or title.', objectTypes: ['contacts'] },
  { name: 'enrichbot_previous_company', label: 'enrichbot: previous company', type: 'string', fieldType: 'text', description: 'The company this person worked at before the job change enrichbot found.', objectTypes: ['contacts'] },
  { name: 'enrichbot_summary', label: 'enrichbot: summary', type: 'string', fieldType: 'textarea', description: 'A short summary written from the facts found.', objectTypes: ['contacts', 'companies'] },
  {
    name: 'enrichbot_email_verification_status',
    label: 'enrichbot: email verification status',
    type: 'enumeration',
    fieldType: 'select',
    description: 'What the email verifier said about the work email.',
    options: statuses.map((s, i) => ({ label: s, value: s, displayOrder: i, hidden: false })),
    objectTypes: ['contacts'],
  },
];

const exists = (err: unknown) => err instanceof HubspotApiError && err.status === 409;

export async function ensureProperties(api: HubspotApi): Promise<{ created: string[]; existing: string[] }> {
  const created: string[] = [];
  const existing: string[] = [];
  for (const objectType of ['contacts', 'companies'] as const) {
    try {
      await api.call(`create of the enrichbot group on ${objectType}`, (c) => c.crm.properties.groupsApi.create(objectType, GROUP));
      created.push(`${objectType} group enrichbot`);
    } catch (err) {
      if (!exists(err)) throw err;
      existing.push(`${objectType} group enrichbot`);
    }
    for (const p of PROPERTIES.filter((d) => d.objectTypes.includes(objectType))) {
      const { objectTypes: _ignored, ...def } = p;
      try {
        await api.call(`create of ${objectType} property ${p.name}`, (c) => c.crm.properties.coreApi.create(objectType, { ...def, groupName: GROUP.name } as never));
        created.push(`${objectType}.${p.name}`);
      } catch (err) {
        if (!exists(err)) throw err;
        existing.push(`${objectType}.${p.name}`);
      }
    }
  }
  return { created, existing };
}
