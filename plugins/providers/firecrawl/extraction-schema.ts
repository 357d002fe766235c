// What we ask Firecrawl's LLM to pull from a company homepage: a JSON Schema sent in the
// scrape request's json format, and a prompt that forbids guessing.
// Firecrawl's tips (docs.firecrawl.dev/features/llm-extract): nullable types, "return null if
// not found" in each description, short property names, small schemas.

const nullable = (type: 'string' | 'integer', description: string) => ({
  type: [type, 'null'],
  description: `${description} Return null if the page does not state it.`,
});

export const COMPANY_JSON_SCHEMA = {
  type: 'object',
  properties: {
    name: nullable('string', "The company's own name as the page presents it."),
    description: nullable('string', 'One or two sentences on what the company does, in the words of the page.'),
    industry: nullable('string', 'The industry the company works in, in a few words.'),
    employeeCount: nullable('integer', 'The exact number of employees, only if the page states a number.'),
    employeeRange: nullable('string', 'The size of the team as a range (e.g. "51-200"), only if the page states one.'),
    foundedYear: nullable('integer', 'The four-digit year the company was founded.'),
    city: nullable('string', 'City of the company headquarters.'),
    region: nullable('string', 'State or region of the company headquarters.'),
    country: nullable('string', 'Country of the company headquarters.'),
    linkedinUrl: nullable('string', "URL of the company's LinkedIn page (linkedin.com/company/...) linked from the page."),
  },
} as const;

export const EXTRACTION_PROMPT =
  'Extract the facts this company states about itself on its own website. Use null for anything the page does not state; never guess or use outside knowledge.';
