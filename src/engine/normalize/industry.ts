// Industry: HubSpot's `industry` options are the canonical list (HubSpot refuses free text in
// that enumeration). Provider text is matched in this order: a HubSpot value or label (which are
// also LinkedIn's original industry names, as Apollo and Prospeo send them), LinkedIn's 2022
// names, the SEC's SIC code when the provider gave one, then keywords for free text such as
// Firecrawl's or Claude's "B2B SaaS". Sources: data/*.json.
import hubspot from './data/hubspot-industries.json' with { type: 'json' };
import linkedin from './data/linkedin-industries.json' with { type: 'json' };
import sic from './data/sic-industries.json' with { type: 'json' };
import { fail, fold, ok, type Normalized } from './text.js';

export const HUBSPOT_INDUSTRIES = hubspot.options.map((o) => o.value) as [string, ...string[]];
const LABELS = new Map(hubspot.options.map((o) => [o.value, o.label]));
export const industryLabel = (value: string) => LABELS.get(value);

const BY_NAME = new Map<string, string>();
for (const o of hubspot.options) {
  BY_NAME.set(fold(o.value.replace(/_/g, ' ')), o.value);
  BY_NAME.set(fold(o.label), o.value);
}
for (const [name, value] of Object.entries(linkedin.map)) BY_NAME.set(fold(name), value);
// Spellings seen from providers that differ from HubSpot's label by more than punctuation.
const ALIASES: Record<string, string> = {
  'nonprofit organization management': 'NON_PROFIT_ORGANIZATION_MANAGEMENT',
  'information technology and services': 'INFORMATION_TECHNOLOGY_AND_SERVICES',
  'health wellness and fitness': 'HEALTH_WELLNESS_AND_FITNESS',
  'venture capital and private equity': 'VENTURE_CAPITAL_PRIVATE_EQUITY',
  'renewables and environment': 'RENEWABLES_ENVIRONMENT',
  'professional training and coaching': 'PROFESSIONAL_TRAINING_COACHING',
  'paper and forest products': 'PAPER_FOREST_PRODUCTS',
  'import and export': 'IMPORT_AND_EXPORT',
  'international trade and development': 'INTERNATIONAL_TRADE_AND_DEVELOPMENT',
  'security and investigations': 'SECURITY_AND_INVESTIGATIONS',
  'mining and metals': 'MINING_METALS',
  'oil and energy': 'OIL_ENERGY',
  'defense and space': 'DEFENSE_SPACE',
  'gambling and casinos': 'GAMBLING_CASINOS',
  'airlines aviation': 'AIRLINES_AVIATION',
  'hospital and health care': 'HOSPITAL_HEALTH_CARE',
  'food and beverages': 'FOOD_BEVERAGES',
  'wine and spirits': 'WINE_AND_SPIRITS',
  agriculture: 'FARMING',
};
for (const [name, value] of Object.entries(ALIASES)) BY_NAME.set(name, value);

// Keywords for free text, tried in order; the first that appears wins. Several European
// languages, since Firecrawl reads a company's own site.
const KEYWORDS: [RegExp, string][] = [
  [/\b(cyber ?security|information security|network security|cybersecurite|cybersicherheit|ciberseguridad)\b/, 'COMPUTER_NETWORK_SECURITY'],
  [/\b(semiconductors?|semi conductors?|chips?)\b/, 'SEMICONDUCTORS'],
  [/\b(saas|software|logiciels?|logiciel|programmi|programas)\b/, 'COMPUTER_SOFTWARE'],
  [/\b(video ?games?|gaming|jeux video|game studio)\b/, 'COMPUTER_GAMES'],
  [/\b(it services|it consulting|information technology|informatique|it dienstleistungen|servicios it|tecnologias de la informacion|managed services|cloud)\b/, 'INFORMATION_TECHNOLOGY_AND_SERVICES'],
  [/\b(e ?commerce|marketplace|internet|online platform|web services)\b/, 'INTERNET'],
  [/\b(venture capital|private equity)\b/, 'VENTURE_CAPITAL_PRIVATE_EQUITY'],
  [/\b(investment banking)\b/, 'INVESTMENT_BANKING'],
  [/\b(asset management|wealth management|investment management|hedge funds?)\b/, 'INVESTMENT_MANAGEMENT'],
  [/\b(banks?|banking|banque|banken|banca|banco|bancaire)\b/, 'BANKING'],
  [/\b(insurance|insurtech|assurances?|versicherungen|versicherung|seguros?|assicurazioni|verzekeringen)\b/, 'INSURANCE'],
  [/\b(fintech|payments?|financial|finance|finanzdienstleistungen|services financiers|servicios financieros|lending|crypto|blockchain)\b/, 'FINANCIAL_SERVICES'],
  [/\b(accounting|comptabilite|buchhaltung|wirtschaftsprufung|contabilidad|audit)\b/, 'ACCOUNTING'],
  [/\b(biotech|biotechnology|biotechnologie|life sciences)\b/, 'BIOTECHNOLOGY'],
  [/\b(pharma|pharmaceuticals?|pharmaceutique|pharmazie|farmaceutica|farmaceutico)\b/, 'PHARMACEUTICALS'],
  [/\b(medical devices?|medtech|dispositifs medicaux|medizintechnik)\b/, 'MEDICAL_DEVICES'],
  [/\b(mental health)\b/, 'MENTAL_HEALTH_CARE'],
  [/\b(health ?care|hospitals?|clinics?|healthtech|sante|gesundheitswesen|gesundheit|salud|sanita|saude|zorg)\b/, 'HOSPITAL_HEALTH_CARE'],
  [/\b(fitness|wellness|gyms?)\b/, 'HEALTH_WELLNESS_AND_FITNESS'],
  [/\b(staffing|recruiting|recruitment|recrutement|personalvermittlung|interim)\b/, 'STAFFING_AND_RECRUITING'],
  [/\b(hr tech|human resources|ressources humaines|payroll)\b/, 'HUMAN_RESOURCES'],
  [/\b(e ?learning|edtech|online learning|online courses)\b/, 'E_LEARNING'],
  [/\b(universit(y|ies|e|at|ad)|college|higher education|hochschule|enseignement superieur)\b/, 'HIGHER_EDUCATION'],
  [/\b(schools?|k 12|primary education|secondary education)\b/, 'PRIMARY_SECONDARY_EDUCATION'],
  [/\b(education|educational|training|formation|bildung|educacion|formazione|onderwijs|educacao)\b/, 'EDUCATION_MANAGEMENT'],
  [/\b(telecom|telecommunications?|telecommunication|telekommunikation|telecomunicaciones|telecomunicazioni)\b/, 'TELECOMMUNICATIONS'],
  [/\b(wireless|mobile network)\b/, 'WIRELESS'],
  [/\b(advertising|marketing|agency|publicite|werbung|publicidad|pubblicita)\b/, 'MARKETING_AND_ADVERTISING'],
  [/\b(public relations|communications agency)\b/, 'PUBLIC_RELATIONS_AND_COMMUNICATIONS'],
  [/\b(consulting|consultancy|conseil|beratung|unternehmensberatung|consultoria|consulenza|advisory)\b/, 'MANAGEMENT_CONSULTING'],
  [/\b(law firm|legal|juridique|rechtsanwalte|kanzlei|abogados|avvocati)\b/, 'LAW_PRACTICE'],
  [/\b(commercial real estate)\b/, 'COMMERCIAL_REAL_ESTATE'],
  [/\b(real estate|property|proptech|immobilier|immobilien|inmobiliaria|immobiliare|vastgoed|imobiliario)\b/, 'REAL_ESTATE'],
  [/\b(construction|bau|bauwesen|construccion|costruzioni|bouw|construcao|btp)\b/, 'CONSTRUCTION'],
  [/\b(architecture)\b/, 'ARCHITECTURE_PLANNING'],
  [/\b(automotive|automobile|automobil|automocion|cars?|vehicles?|mobility)\b/, 'AUTOMOTIVE'],
  [/\b(aerospace|aviation|aeronautique|luft und raumfahrt)\b/, 'AVIATION_AEROSPACE'],
  [/\b(airlines?)\b/, 'AIRLINES_AVIATION'],
  [/\b(defen[cs]e|military)\b/, 'DEFENSE_SPACE'],
  [/\b(logistics|supply chain|logistique|logistik|logistica|freight forwarding|transport)\b/, 'LOGISTICS_AND_SUPPLY_CHAIN'],
  [/\b(shipping|maritime)\b/, 'MARITIME'],
  [/\b(renewables?|renewable energy|solar|wind energy|cleantech|climate)\b/, 'RENEWABLES_ENVIRONMENT'],
  [/\b(oil|gas|energy|energie|energia)\b/, 'OIL_ENERGY'],
  [/\b(utilities|utility|water supply|electricity)\b/, 'UTILITIES'],
  [/\b(mining|metals|steel)\b/, 'MINING_METALS'],
  [/\b(chemicals?|chemie|chimie|quimica|chimica)\b/, 'CHEMICALS'],
  [/\b(restaurants?|food service)\b/, 'RESTAURANTS'],
  [/\b(food|beverages?|drinks|agroalimentaire|lebensmittel|alimentacion|alimentare)\b/, 'FOOD_BEVERAGES'],
  [/\b(wine|spirits|brewery|beer)\b/, 'WINE_AND_SPIRITS'],
  [/\b(supermarkets?|grocery|groceries)\b/, 'SUPERMARKETS'],
  [/\b(retail|retailer|commerce de detail|einzelhandel|comercio minorista|vendita al dettaglio)\b/, 'RETAIL'],
  [/\b(wholesale|grosshandel|distribution)\b/, 'WHOLESALE'],
  [/\b(fashion|apparel|clothing|mode|moda)\b/, 'APPAREL_FASHION'],
  [/\b(luxury|jewelry|jewellery)\b/, 'LUXURY_GOODS_JEWELRY'],
  [/\b(cosmetics?|beauty|skincare)\b/, 'COSMETICS'],
  [/\b(consumer electronics)\b/, 'CONSUMER_ELECTRONICS'],
  [/\b(hardware|computers)\b/, 'COMPUTER_HARDWARE'],
  [/\b(electronics?|electrical|elektronik)\b/, 'ELECTRICAL_ELECTRONIC_MANUFACTURING'],
  [/\b(robotics|automation)\b/, 'INDUSTRIAL_AUTOMATION'],
  [/\b(machinery|maschinenbau|machines)\b/, 'MACHINERY'],
  [/\b(manufacturing|industrial|industrie|industria|fabrication)\b/, 'MECHANICAL_OR_INDUSTRIAL_ENGINEERING'],
  [/\b(hotels?|hospitality|hotellerie|hosteleria)\b/, 'HOSPITALITY'],
  [/\b(travel|tourism|tourisme|tourismus|turismo)\b/, 'LEISURE_TRAVEL_TOURISM'],
  [/\b(film|movies?|cinema)\b/, 'MOTION_PICTURES_AND_FILM'],
  [/\b(music|musique|musik)\b/, 'MUSIC'],
  [/\b(publishing|publisher|editions|verlag|editorial)\b/, 'PUBLISHING'],
  [/\b(news|newspapers?|journalism)\b/, 'NEWSPAPERS'],
  [/\b(media|medias|medien)\b/, 'ONLINE_MEDIA'],
  [/\b(entertainment|divertissement)\b/, 'ENTERTAINMENT'],
  [/\b(sports?|sport)\b/, 'SPORTS'],
  [/\b(non ?profit|ngo|charity|foundation|association)\b/, 'NON_PROFIT_ORGANIZATION_MANAGEMENT'],
  [/\b(government|public sector|public administration|administration publique|verwaltung)\b/, 'GOVERNMENT_ADMINISTRATION'],
  [/\b(research)\b/, 'RESEARCH'],
  [/\b(design)\b/, 'DESIGN'],
  [/\b(events?)\b/, 'EVENTS_SERVICES'],
  [/\b(security)\b/, 'SECURITY_AND_INVESTIGATIONS'],
  [/\b(farming|agriculture|agritech|agtech|landwirtschaft)\b/, 'FARMING'],
  [/\b(textiles?)\b/, 'TEXTILES'],
  [/\b(furniture|mobel|meubles)\b/, 'FURNITURE'],
  [/\b(packaging)\b/, 'PACKAGING_AND_CONTAINERS'],
  [/\b(printing)\b/, 'PRINTING'],
  [/\b(translation|localization)\b/, 'TRANSLATION_AND_LOCALIZATION'],
  [/\b(veterinary|pet care)\b/, 'VETERINARY'],
  [/\b(outsourcing|bpo|offshoring)\b/, 'OUTSOURCING_OFFSHORING'],
  [/\b(consumer goods|cpg|fmcg)\b/, 'CONSUMER_GOODS'],
  [/\b(consumer services)\b/, 'CONSUMER_SERVICES'],
];

/** The HubSpot industry for a SIC code (the narrowest range that contains it). */
export function industryFromSic(code: string | number): string | undefined {
  const n = typeof code === 'number' ? code : Number.parseInt(String(code).trim(), 10);
  if (!Number.isInteger(n)) return undefined;
  let best: { from: number; to: number; industry: string } | undefined;
  for (const r of sic.ranges) if (n >= r.from && n <= r.to && (!best || r.to - r.from < best.to - best.from)) best = r;
  return best?.industry;
}

export function normalizeIndustry(value: string, hints: { sicCode?: string } = {}): Normalized<string> {
  const key = fold(value);
  const exact = BY_NAME.get(key);
  if (exact) return ok(exact);
  const fromSic = hints.sicCode ? industryFromSic(hints.sicCode) : undefined;
  if (fromSic) return ok(fromSic);
  // SEC's own descriptions ("SERVICES-PREPACKAGED SOFTWARE") and free text.
  for (const [re, industry] of KEYWORDS) if (re.test(key)) return ok(industry);
  return fail(`no HubSpot industry option matches "${value.slice(0, 80)}"`);
}
