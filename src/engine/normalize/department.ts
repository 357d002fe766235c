// Department: one fixed set, from the provider's word or from the job title. The function named
// in the title wins over the rank ("Chief Marketing Officer" is marketing, "CEO" executive); the
// order of the rules settles titles that name two ("Sales Operations" is sales, "Data Engineer"
// data). A title the rules cannot place stays unset, never guessed.
import { fold } from './text.js';

export const DEPARTMENTS = ['executive', 'sales', 'marketing', 'customer_success', 'engineering', 'product', 'design', 'data', 'it', 'finance', 'hr', 'legal', 'operations', 'other'] as const;
export type Department = (typeof DEPARTMENTS)[number];

/** Providers' department words: Apollo's (with or without "master_"), Prospeo's, AI Ark's, ContactOut's job functions. */
const PROVIDER_WORDS: Record<string, Department> = {
  c_suite: 'executive', executive: 'executive', executives: 'executive', founder: 'executive', owner: 'executive', management: 'executive',
  sales: 'sales', business_development: 'sales', marketing: 'marketing', communications: 'marketing', public_relations: 'marketing',
  customer_success: 'customer_success', customer_service: 'customer_success', support: 'customer_success', customer_support: 'customer_success',
  engineering: 'engineering', engineering_technical: 'engineering', software_development: 'engineering', research_and_development: 'engineering',
  product: 'product', product_management: 'product', design: 'design', arts_and_design: 'design',
  data: 'data', data_science: 'data', analytics: 'data',
  it: 'it', information_technology: 'it',
  finance: 'finance', accounting: 'finance', finance_and_accounting: 'finance',
  hr: 'hr', human_resources: 'hr', people: 'hr', talent: 'hr',
  legal: 'legal', operations: 'operations', administrative: 'operations', purchasing: 'operations', supply_chain: 'operations', logistics: 'operations',
  medical_health: 'other', healthcare_services: 'other', education: 'other', consulting: 'other', real_estate: 'other', military_and_protective_services: 'other', other: 'other',
};

const words = (list: string) => list.trim().split(/\s*\|\s*/).join('|');
const rule = (dept: Department, list: string, suffixes?: string): [Department, RegExp] => [
  dept,
  new RegExp(suffixes ? `\\b(?:${words(list)})\\b|(?:${words(suffixes)})(?:in|en)?\\b` : `\\b(?:${words(list)})\\b`),
];

const RULES: [Department, RegExp][] = [
  // The function-named chiefs first: CFO is finance, not executive.
  rule('marketing', `cmo | chief marketing officer | chief brand officer | product marketing | marketing operations`),
  rule('finance', `cfo | chief financial officer | chief accounting officer | cao`),
  rule('hr', `chro | chief people officer | chief human resources officer | chief talent officer | hr business partner | hrbp | people partner`),
  rule('it', `cio | chief information officer | ciso | chief information security officer`),
  rule('engineering', `cto | chief technology officer | chief technical officer`),
  rule('product', `cpo | chief product officer`),
  rule('sales', `cro | chief revenue officer | chief sales officer | chief commercial officer | cco`),
  rule('legal', `clo | chief legal officer | general counsel | chief compliance officer`),
  rule('operations', `coo | chief operating officer | chief operations officer`),
  rule('data', `cdo | chief data officer | chief analytics officer | chief ai officer`),
  rule('customer_success', `chief customer officer | chief customer success officer | chief experience officer`),
  rule(
    'executive',
    `ceo | chief executive | founder | co founder | cofounder | fondateur | fondatrice | cofondateur | grunder | grunderin | mitgrunder | fundador | fundadora | cofundador | fondatore | oprichter | medeoprichter | owner | co owner | proprietaire | inhaber | inhaberin | dueno | propietario | titolare | eigenaar | president | presidente | prasident | pdg | directeur general | directrice generale | dg | geschaftsfuhrer | geschaftsfuhrerin | geschaftsfuhrende | geschaftsfuhrender | gerant | gerante | vorstand | vorstandsvorsitzender | vorstandsvorsitzende | director general | directora general | gerente general | consejero delegado | amministratore delegato | direttore generale | algemeen directeur | diretor geral | diretora geral | diretor executivo | diretora executiva | diretor presidente | managing director | managing partner | general manager | chairman | chairwoman | chief of staff | board member | executive director`,
  ),
  // Functions, most specific first.
  rule('it', `it support | desktop support | it helpdesk | it help desk | it service desk | service desk analyst`),
  rule('customer_success', `customer success | client success | customer experience | customer support | customer service | customer care | client services | client service | service client | relation client | kundenservice | kundenbetreuung | kundenbetreuer | kundendienst | atencion al cliente | servicio al cliente | assistenza clienti | klantenservice | atendimento ao cliente | sucesso do cliente | exito del cliente | support | helpdesk | help desk | technical account manager | implementation | onboarding | customer onboarding | service desk | soporte | suporte | supporto | assistance client`),
  rule('data', `data | analytics | business intelligence | bi | machine learning | ml | ai | artificial intelligence | donnees | daten | datos | dati | dados | statistician | data scientist | insights`),
  rule('design', `design | designer | ux | ui | user experience | user research | ux research | graphiste | graphic | grafik | diseno | disenador | disenadora | creative | creatif | creative director | art director | directeur artistique | directrice artistique | artistique | illustrator | ontwerper | vormgever | designerin`),
  rule('marketing', `marketing | growth | brand | content | seo | sem | sea | demand generation | demand gen | communication | communications | comms | public relations | pr | social media | community | events | event | evenementiel | kommunikation | comunicacion | comunicazione | comunicacao | marketeer | copywriter | redacteur | redactrice | webmarketing | crm`, `marketing`),
  rule('sales', `sales | partner manager | partner account manager | channel partner | account executive | account manager | key account | business development | bizdev | biz dev | sdr | bdr | inside sales | revenue | partnerships | partnership | alliances | channel | presales | pre sales | solutions consultant | solution consultant | commercial | commerciale | vente | ventes | vendeur | vendeuse | ingenieur commercial | ingenieure commerciale | charge d affaires | vertrieb | verkauf | verkaufer | verkauferin | kundenberater | key account manager | ventas | vendedor | vendedora | comercial | ejecutivo de cuentas | cuentas | contas | grandes comptes | vendite | venditore | commerciale | verkoop | verkoper | accountmanager | vendas | executivo de contas | consultor comercial`, `vertrieb | verkauf | vertriebs[a-z]*`),
  rule('hr', `hr | human resources | people | people operations | talent | talent acquisition | recruiter | recruiting | recruitment | sourcer | learning and development | l and d | payroll | compensation | benefits | rh | drh | ressources humaines | recrutement | recruteur | recruteuse | charge de recrutement | personal | personalreferent | personalreferentin | personalleiter | personalleiterin | recursos humanos | reclutador | reclutadora | seleccion | risorse umane | selezione | personeelszaken | werving | recrutamento | recursos humanos`, `personal[a-z]+`),
  rule('legal', `legal | counsel | lawyer | attorney | paralegal | compliance | privacy | juriste | juridique | avocat | avocate | jurist | juristin | rechtsanwalt | rechtsanwaltin | justiziar | justiziarin | recht | abogado | abogada | juridico | avvocato | legale | advocaat | jurist | juridisch | advogado | advogada | notary | notaire`),
  rule('finance', `finance | financial | accountant | accounting | accounts payable | accounts receivable | controller | controlling | comptable | comptabilite | finances | financier | financiere | financiero | financiera | finanziario | finanziaria | tresorerie | treasury | tax | fiscal | fiscalite | audit | auditor | fp and a | investor relations | buchhalter | buchhalterin | buchhaltung | finanzen | finanz | steuer | contable | contabilidad | finanzas | contabile | contabilita | finanza | boekhouder | financieel | financien | contador | contabilidade | financeiro | financeira | billing | credit | actuary | underwriter | bookkeeper`, `controller | buchhalter | finanz[a-z]*`),
  rule('it', `it | information technology | systemes d information | sistemas de informacion | sistemi informativi | informatique | informatik | informatica | system administrator | systems administrator | sysadmin | network | networks | infrastructure | cybersecurity | cyber security | security | desktop support | it support | dsi | systemadministrator | administrateur systeme | administrateur reseau | ict | soc analyst`),
  rule('engineering', `engineer | engineering | engineers | developer | software | devops | sre | site reliability | qa | quality assurance | test automation | firmware | embedded | frontend | front end | backend | back end | full stack | fullstack | mobile | ios | android | web developer | programmer | architect | tech lead | technical lead | r and d | rnd | research and development | ingenieur | ingenieure | developpeur | developpeuse | entwickler | entwicklerin | softwareentwickler | ingeniero | ingeniera | desarrollador | desarrolladora | programador | ingegnere | sviluppatore | sviluppatrice | ontwikkelaar | engenheiro | engenheira | desenvolvedor | desenvolvedora | technique | technical | technischer | technische | technology | tecnologia | technologie | platform`, `entwickler | ingenieur`),
  rule('product', `product | products | produit | produkt | producto | prodotto | produto | product owner | product manager | chef de produit | produktmanager | produktmanagerin | po`),
  rule('operations', `operations | operation | ops | logistics | supply chain | procurement | purchasing | buyer | sourcing | facilities | office manager | office | administration | administrative | admin | executive assistant | assistant | assistante | assistente | asistente | assistant de direction | assistante de direction | project manager | program manager | programme manager | project | projects | program | pmo | business operations | proyecto | proyectos | projeto | projetos | progetto | progetti | projectleider | projectmanager | revops | strategy and operations | chef de projet | achats | acheteur | acheteuse | logistique | einkauf | einkaufer | logistik | projektleiter | projektleiterin | projektmanager | compras | logistica | operaciones | acquisti | logistica | operazioni | inkoop | logistiek | operacoes | quality | production | manufacturing | warehouse | plant | fleet | secretary | receptionist`, `einkauf | projektleiter | projektmanager | logistik`),
  rule('other', `nurse | physician | doctor | medecin | infirmier | infirmiere | arzt | arztin | pflege | enfermero | enfermera | medico | infermiere | verpleegkundige | enfermeiro | teacher | professor | lecturer | enseignant | enseignante | lehrer | lehrerin | profesor | profesora | docente | docent | pharmacist | pilot | driver | chef | cook | researcher | scientist | consultant | research | teacher | tutor | coach | trainer | formateur | formatrice`),
];

export function departmentFromTitle(title: string): Department | undefined {
  // "Vice President of Sales" names sales, not the president.
  const t = fold(title).replace(/\b(vice president[ea]?|vicepresident[ea]?|vice presidente|vizeprasident(in)?)\b/g, 'vp');
  if (!t) return undefined;
  for (const [dept, re] of RULES) if (re.test(t)) return dept;
  return undefined;
}

export function normalizeDepartment(value: string): Department | undefined {
  const key = fold(value).replace(/^master /, '').replace(/ /g, '_');
  if ((DEPARTMENTS as readonly string[]).includes(key)) return key as Department;
  return PROVIDER_WORDS[key] ?? departmentFromTitle(value);
}
