// Seniority: one fixed set (Apollo's own vocabulary), from the provider's word or from the job
// title. Rules cover the common English forms and the main European languages (FR, DE, ES, IT,
// NL, PT); a title the rules cannot place stays unset, never guessed.
import { fold } from './text.js';

export const SENIORITIES = ['owner', 'founder', 'c_suite', 'partner', 'vp', 'head', 'director', 'manager', 'senior', 'entry', 'intern'] as const;
export type Seniority = (typeof SENIORITIES)[number];

/** Providers' own seniority words (Apollo, Prospeo, AI Ark, ContactOut, LinkedIn's levels). */
const PROVIDER_WORDS: Record<string, Seniority> = {
  c_suite: 'c_suite', 'c suite': 'c_suite', 'c level': 'c_suite', cxo: 'c_suite', executive: 'c_suite', 'c level executive': 'c_suite', chief: 'c_suite',
  'vice president': 'vp', vp: 'vp', svp: 'vp', evp: 'vp',
  'founder owner': 'founder', 'owner founder': 'owner', 'founder or owner': 'founder', owner: 'owner', founder: 'founder', partner: 'partner',
  head: 'head', director: 'director', manager: 'manager', senior: 'senior',
  entry: 'entry', 'entry level': 'entry', junior: 'entry', 'individual contributor': 'entry', training: 'intern', unpaid: 'intern', intern: 'intern', internship: 'intern',
};

// Patterns on folded text (lower case, no accents). Order matters: the first match wins, so a
// rank beats its qualifier ("Senior Director" is director, "Senior Vice President" vp, "Team
// Lead" manager, "Lead Engineer" senior). `suffixes` catch German compounds (Vertriebsleiter,
// Softwareentwickler), which carry the rank at the end of one word.
const words = (list: string) => list.trim().split(/\s*\|\s*/).join('|');
const rule = (level: Seniority, list: string, suffixes?: string, notBefore?: string, notAfter?: string): [Seniority, RegExp] => {
  const before = notAfter ? `(?<!\\b(?:${words(notAfter)}) )` : '';
  const after = notBefore ? `(?! (?:${words(notBefore)})\\b)` : '';
  const whole = `${before}\\b(?:${words(list)})\\b${after}`;
  return [level, new RegExp(suffixes ? `${whole}|(?:${words(suffixes)})(?:in)?\\b` : whole)];
};

const RULES: [Seniority, RegExp][] = [
  rule('intern', `intern | interns | internship | stagiaire | stage | praktikant | praktikantin | praktikum | werkstudent | werkstudentin | becario | becaria | practicas | tirocinante | stagista | stagiair | estagiario | estagiaria | alternant | alternante | apprenti | apprentie | apprentice | azubi | auszubildende | auszubildender | trainee | working student`),
  rule('owner', `owner | co owner | proprietor | proprietaire | inhaber | inhaberin | dueno | duena | propietario | propietaria | titolare | eigenaar | eigenares | proprietario | proprietaria`, undefined, undefined, `product | process | business | service | data | risk | control | system | budget | application | platform | content | account`),
  rule('founder', `founder | co founder | cofounder | founding partner | fondateur | fondatrice | cofondateur | cofondatrice | co fondateur | co fondatrice | grunder | grunderin | mitgrunder | mitgrunderin | fundador | fundadora | cofundador | cofundadora | fondatore | cofondatore | oprichter | medeoprichter | oprichtster`),
  rule('vp', `vp | svp | evp | avp | rvp | gvp | vice president | vicepresident | vice presidente | vicepresidente | vizeprasident | vizeprasidentin | vice presidenta | vicepresidenta | vice presidentin | vice presidente executivo`),
  rule(
    'c_suite',
    `ceo | cfo | coo | cto | cio | cmo | cro | cpo | chro | cso | cdo | cco | ciso | clo | cao | cbo | cgo | cxo | cco | chief [a-z ]*officer | chief executive | president | presidente | presidenta | prasident | prasidentin | pdg | directeur general | directrice generale | directeur generale | dg | geschaftsfuhrer | geschaftsfuhrerin | geschaftsfuhrende | geschaftsfuhrender | vorstand | vorstandin | vorstandsvorsitzender | vorstandsvorsitzende | vorstandsmitglied | director general | directora general | gerente general | consejero delegado | consejera delegada | amministratore delegato | amministratrice delegata | direttore generale | direttrice generale | algemeen directeur | algemeen directrice | diretor executivo | diretora executiva | diretor geral | diretora geral | diretor presidente | managing director | chairman | chairwoman | chairperson | chair of the board | ceo founder`,
  ),
  rule(
    'partner',
    `partner | partnerin | associe | associee | socio | socia | socio director | teilhaber | teilhaberin | vennoot | socio gerente`,
    undefined,
    `manager | managers | account | accounts | marketing | sales | success | development | program | programme | programs | relations | relationship | engineer | enablement | operations | solutions | ecosystem | channel | lead | specialist | executive | director | alliances | integrations | support | onboarding | network | business | technology | experience`,
    `business | hr | channel | delivery | talent | people | finance | learning | strategic | account | solution | solutions | technology | hrbp | alliance | implementation | people and culture | ecosystem`,
  ),
  rule('manager', `teamleiter | teamleiterin | gruppenleiter | gruppenleiterin | projektleiter | projektleiterin | schichtleiter | schichtleiterin | filialleiter | filialleiterin | team lead | team leader | teamlead | teamleider | projectleider`),
  rule('head', `head | heads | hoofd | jefe | jefa | capo | leiter | leiterin | chef de service | chef de departement | responsable de departement | chef du service | bereichsleiter | abteilungsleiter`, `[a-z]+leiter`),
  rule('director', `director | directors | directeur | directrice | direktor | direktorin | direttore | direttrice | directora | diretor | diretora | dir | directeur adjoint | directrice adjointe`),
  rule(
    'manager',
    `manager | managers | managerin | mgr | gerente | gestor | gestora | gestionnaire | responsable | responsabile | supervisor | supervisora | superviseur | superviseure | chef de projet | cheffe de projet | chef de produit | cheffe de produit | chef d equipe | chef de rayon | chef de secteur | lider de equipo | encargado | encargada | capo progetto | capoprogetto | leidinggevende | meister | meisterin | foreman | teamchef`,
    `manager`,
  ),
  rule(
    'senior',
    `senior | sr | snr | lead | principal | staff engineer | staff software engineer | staff data scientist | staff designer | staff product designer | architect | architecte | architekt | architektin | arquitecto | arquitecta | architetto | arquiteto | expert | experte | expertin | esperto | experto | experta | especialista senior | fellow | distinguished`,
    `architekt`,
  ),
  rule(
    'entry',
    `junior | jr | business partner | hrbp | ejecutivo | ejecutiva | executivo | executiva | designerin | associate | assistant | assistante | assistent | assistentin | asistente | assistente | analyst | analyste | analista | specialist | specialiste | spezialist | spezialistin | especialista | specialista | representative | rep | sdr | bdr | coordinator | coordinateur | coordinatrice | coordinador | coordinadora | coordinatore | coordenador | coordenadora | engineer | engineers | ingenieur | ingenieurin | ingeniero | ingeniera | ingegnere | engenheiro | engenheira | developer | developpeur | developpeuse | entwickler | entwicklerin | desarrollador | desarrolladora | sviluppatore | sviluppatrice | ontwikkelaar | desenvolvedor | desenvolvedora | programmer | programmeur | programador | programadora | programmatore | consultant | consultante | berater | beraterin | consultor | consultora | consulente | adviseur | medewerker | medewerkster | mitarbeiter | mitarbeiterin | sachbearbeiter | sachbearbeiterin | referent | referentin | charge | chargee | technicien | technicienne | tecnico | tecnica | techniker | technikerin | designer | graphiste | disenador | disenadora | recruiter | recruteur | recruteuse | accountant | comptable | buchhalter | buchhalterin | contable | contabile | boekhouder | contador | contadora | executive | officer | administrator | administrateur | agent | clerk | scientist | researcher | chercheur | chercheuse | writer | editor | redacteur | redactrice | copywriter | nurse | teacher | enseignant | enseignante | lehrer | lehrerin | profesor | profesora | docente | vendeur | vendeuse | verkaufer | verkauferin | vendedor | vendedora | venditore | comercial | commercial | commerciale | asesor | asesora | operator | operateur | tester | auditor | auditeur | auditrice | attorney | lawyer | avocat | avocate | abogado | abogada | avvocato | advocaat | advogado | advogada | counsel | paralegal | juriste | jurist | juristin | generalist | marketeer | kaufmann | kauffrau | secretaire | secretary | receptionist | driver | cashier | support | trader | underwriter | actuary | pharmacist | physician | economist | economista | planner | buyer | acheteur | acheteuse | einkaufer | einkauferin | comprador | compradora | collaborateur | collaboratrice | strategist | producer | animator | illustrator | photographer | coach | trainer | formateur | formatrice | instructor | tutor | controller | controleur | controleuse | verkoper | stylist | chemist | biologist | statistician | librarian | addetto | addetta | impiegato | impiegata | operaio | tecnologo | estagiario | auxiliar | administrativo | administrativa | vendedor | conseiller | conseillere | gestore | assistente | analist | stratege | specialist | onderzoeker | ingenieur | verpleegkundige | docent | beleidsmedewerker | zelfstandig`,
    `entwickler | mitarbeiter | berater | referent | kaufmann | kauffrau | ingenieur | techniker | assistent | spezialist | planer | einkaufer | verkaufer | buchhalter | controller | sachbearbeiter`,
  ),
];

export function seniorityFromTitle(title: string): Seniority | undefined {
  const t = fold(title);
  if (!t) return undefined;
  // "Chief of Staff" is not an officer of the company: the executive's right hand, director-level.
  if (/\bchief of staff\b/.test(t)) return 'director';
  // "Vice President" contains "President": the vp rule comes first. "Executive Director" and
  // "Executive Assistant" are not c-suite: "executive" alone is not a rule above entry.
  for (const [level, re] of RULES) if (re.test(t)) return level;
  return undefined;
}

/** A provider's seniority word, else the same rules as for titles (Prospeo sends "Vice President"). */
export function normalizeSeniority(value: string): Seniority | undefined {
  const f = fold(value);
  return PROVIDER_WORDS[f] ?? PROVIDER_WORDS[f.replace(/ /g, '_')] ?? ((SENIORITIES as readonly string[]).includes(f.replace(/ /g, '_')) ? (f.replace(/ /g, '_') as Seniority) : seniorityFromTitle(value));
}
