// Cuts CSV text into records before csv-parse reads their fields. csv-parse's own
// `skip_records_with_error` does not resynchronise: after a row over `max_record_size` or an
// unclosed quote it silently drops every row after it (seen with csv-parse 7.0). Here a broken
// row costs only its own line: the record is reported broken and reading resumes at the line
// after the one it started on. Quote rules match csv-parse with `relax_quotes`: a quote opens
// a quoted field only at the start of a field; `""` inside one is a literal quote.
//
// Linear time: "resume at the next line" used to mean scanning that line again, so a file whose
// every line opens a quote was read up to 64 KiB once per line (review: 125 kB blocked for 24 s).
// Instead every line start inside an open record is scanned at the same time as a possible
// restart. The scanner has six states and scans in the same state behave alike from then on, so
// they are merged: each character is examined at most six times, whatever the file holds.

export type SplitRecord =
  | { kind: 'record'; line: number; text: string }
  | { kind: 'broken'; line: number; text: string; reason: string };

// Scanner states: unquoted at a field start / inside a field; in a quoted field, with a quote
// just seen (P) and after a line break inside it (N).
const U0 = 0;
const U1 = 1;
const Q = 2;
const QP = 3;
const QN = 4;
const QNP = 5;
/** Transition results that end the record: an unquoted line break, or a quote that cannot close. */
const COMPLETE = -1;
const UNCLOSED = -2;

const NEVER_CLOSED = 'a quote (") opened on this line is never closed';
const QUOTE = 34;
const LF = 10;
const CR = 13;

/** How a scan from one line start ends: positions only, text is cut when it is emitted. */
interface Outcome {
  kind: 'record' | 'broken';
  /** Exclusive end of the record text (a broken record's text also stops at its first line break). */
  end: number;
  reason?: string;
  /** Broken records over the length limit keep their text past the first line, as read. */
  wholeText?: boolean;
  /** The line reading resumes at. */
  resume: number;
}

/** A scan started in the fresh state at the start of a line. */
interface Start {
  line: number;
  pos: number;
  /** Position of the line break that ends this start's first line, or -1 until seen. */
  firstNl: number;
  group: Group;
  outcome: Outcome | null;
  /** Dropped: inside a record already emitted, never needed. */
  dead: boolean;
  next: Start | null;
}

/** Scans in the same state: the same future, whatever line they started on. */
interface Group {
  state: number;
  head: Start | null;
  tail: Start | null;
  live: number;
  mergedInto: Group | null;
}

export class RecordSplitter {
  /** Characters examined, once per scanner state alive: the work a file causes (tests bound it). */
  examined = 0;
  private readonly d: number;
  /** Text kept from the start of the record being read; `bases[i]` is where `chunks[i]` starts. */
  private chunks: string[] = [];
  private bases: number[] = [];
  private total = 0;
  private line = 1;
  private atLineStart = true;
  /** Scans of consecutive line starts, from the record being read (`starts[head]`) on. */
  private starts: Start[] = [];
  private head = 0;
  /** Index of the earliest start that may still run over the length limit. */
  private overflowAt = 0;
  /** No start can run over the limit before this position (checked no earlier). */
  private nextOverflow = Infinity;
  private primary: Start | null = null;
  private groups: Group[] = [];
  /** Scratch for the fast run over a line: the live scans' states, and their next ones. */
  private readonly states = new Int8Array(8);
  private readonly nexts = new Int8Array(8);
  private readonly out: SplitRecord[] = [];

  constructor(
    delimiter: string,
    private readonly maxRecordChars: number,
  ) {
    this.d = delimiter.charCodeAt(0);
  }

  /** Feeds decoded text; returns the records completed by it. */
  feed(text: string): SplitRecord[] {
    if (text.length === 0) return this.out.splice(0);
    this.chunks.push(text);
    this.bases.push(this.total);
    for (let i = 0; i < text.length; i++) {
      const p = this.total + i;
      const c = text.charCodeAt(i);
      this.noteLine(c, p);
      if (this.groups.length > 0 && c !== LF) {
        const j = this.runAhead(text, i);
        if (j > i) {
          i = j - 1; // the loop's i++ moves to the character that stopped the run
          continue;
        }
      }
      this.stepOne(c, p);
    }
    this.total += text.length;
    this.dropUnneededText();
    return this.out.splice(0);
  }

  /** A line starting at `p` gets its own scan; the line break ending it is noted (a broken row's text stops there). */
  private noteLine(c: number, p: number): void {
    if (this.atLineStart) {
      this.atLineStart = false;
      this.spawn(p);
    }
    if (c === LF) {
      const current = this.starts.length > this.head ? this.starts[this.starts.length - 1] : null;
      if (current && current.line === this.line && current.firstNl < 0) current.firstNl = p;
    }
  }

  /**
   * Runs the live scans from text[i] to the next line break, the next record end, the next merge
   * or the next length check, with no other bookkeeping: on a well-formed file, one scan per line.
   * Counts the characters it examined; returns where it stopped (i itself when it could not start).
   */
  private runAhead(text: string, i: number): number {
    const groups = this.groups;
    const n = groups.length;
    const states = this.states;
    const nexts = this.nexts;
    const d = this.d;
    for (let k = 0; k < n; k++) states[k] = groups[k].state;
    const stop = Math.min(text.length, this.nextOverflow - this.total);
    let j = i;
    run: for (; j < stop; j++) {
      const cj = text.charCodeAt(j);
      if (cj === LF) break;
      for (let k = 0; k < n; k++) {
        const next = transition(states[k], cj, d);
        if (next < 0) break run;
        nexts[k] = next;
      }
      for (let a = 1; a < n; a++) for (let b = 0; b < a; b++) if (nexts[a] === nexts[b]) break run;
      for (let k = 0; k < n; k++) states[k] = nexts[k];
    }
    for (let k = 0; k < n; k++) groups[k].state = states[k];
    this.examined += n * (j - i);
    return j;
  }

  /** One character the slow way: scans end, merge, run over the length limit; finished records are emitted. */
  private stepOne(c: number, p: number): void {
    const groups = this.groups;
    this.examined += groups.length || 1; // no group: discarding the rest of an over-long line
    if (groups.length === 1) {
      // One scan alive, as on every line of a well-formed file: no merging to do.
      const g = groups[0];
      const next = transition(g.state, c, this.d);
      if (next >= 0) g.state = next;
      else {
        this.end1(g, next, p);
        groups.length = 0;
      }
    } else if (groups.length > 1) this.step(c, p);
    if (p >= this.nextOverflow) this.checkLength(p);
    if (this.primary?.outcome) this.advance();
    if (c === LF) {
      this.line++;
      this.atLineStart = true;
    }
  }

  /** Ends the input: open scans end as records, or as broken rows when a quote is still open. */
  end(): SplitRecord[] {
    for (const g of this.groups) {
      const open = g.state === Q || g.state === QN;
      this.resolveGroup(g, (s) => (open ? { kind: 'broken', end: this.total, reason: NEVER_CLOSED, resume: s.line + 1 } : { kind: 'record', end: this.total, resume: Infinity }));
    }
    this.groups = [];
    this.advance();
    return this.out.splice(0);
  }

  private spawn(pos: number): void {
    const group: Group = { state: U0, head: null, tail: null, live: 1, mergedInto: null };
    const start: Start = { line: this.line, pos, firstNl: -1, group, outcome: null, dead: false, next: null };
    group.head = group.tail = start;
    this.groups.push(group);
    this.starts.push(start);
    this.nextOverflow = Math.min(this.nextOverflow, pos + this.maxRecordChars);
    if (this.primary === null) this.primary = start;
  }

  /** Several scans alive: step each, merging those that reach the same state (six states at most). */
  private step(c: number, p: number): void {
    const d = this.d;
    const groups = this.groups;
    let kept = 0;
    for (let k = 0; k < groups.length; k++) {
      const g = groups[k];
      const next = transition(g.state, c, d);
      if (next < 0) {
        this.end1(g, next, p);
        continue;
      }
      g.state = next;
      let m = 0;
      while (m < kept && groups[m].state !== next) m++;
      if (m < kept) merge(groups[m], g);
      else groups[kept++] = g;
    }
    groups.length = kept;
  }

  /** A group's scans end at `p`: an unquoted line break ends their record, or a quote cannot close. */
  private end1(g: Group, how: number, p: number): void {
    if (how === COMPLETE) this.resolveGroup(g, () => ({ kind: 'record', end: p, resume: this.line + 1 }));
    else this.resolveGroup(g, (s) => ({ kind: 'broken', end: p, reason: NEVER_CLOSED, resume: s.line + 1 }));
  }

  /** The earliest unresolved scan that now holds more than maxRecordChars characters is broken. */
  private checkLength(p: number): void {
    this.nextOverflow = Infinity;
    while (this.overflowAt < this.starts.length) {
      const s = this.starts[this.overflowAt];
      if (s.outcome || s.dead) {
        this.overflowAt++;
        continue;
      }
      if (p - s.pos + 1 <= this.maxRecordChars) {
        this.nextOverflow = s.pos + this.maxRecordChars;
        return;
      }
      this.overflowAt++;
      const g = root(s.group);
      const quoted = g.state >= Q;
      const reason = `the row is longer than ${this.maxRecordChars} characters${quoted ? ' (is a closing quote missing?)' : ''}`;
      // In a quote, reading resumes at the next line; outside one, after the line it ran over on.
      s.outcome = quoted ? { kind: 'broken', end: p + 1, reason, resume: s.line + 1 } : { kind: 'broken', end: p + 1, reason, wholeText: true, resume: this.line + 1 };
      this.release(g);
    }
  }

  private resolveGroup(g: Group, outcome: (s: Start) => Outcome): void {
    for (let s = g.head; s; s = s.next) if (!s.outcome && !s.dead) s.outcome = outcome(s);
    g.live = 0;
  }

  /** A member left its group; a group with no member left stops being scanned. */
  private release(g: Group): void {
    if (--g.live === 0) this.groups = this.groups.filter((x) => x !== g);
  }

  /** Emits the record being read once its scan has ended, and every following one already ended. */
  private advance(): void {
    while (this.primary?.outcome) {
      const s = this.primary;
      const o = s.outcome!;
      this.emit(s, o);
      const first = this.starts[this.head].line;
      const to = Math.min(this.starts.length, this.head + Math.max(0, Math.min(o.resume, Number.MAX_SAFE_INTEGER) - first));
      for (let k = this.head; k < to; k++) {
        const dropped = this.starts[k];
        if (!dropped.outcome && !dropped.dead) {
          dropped.dead = true;
          this.release(root(dropped.group));
        }
      }
      this.head = to;
      this.overflowAt = Math.max(this.overflowAt, to);
      this.primary = this.head < this.starts.length ? this.starts[this.head] : null;
    }
    if (this.head > 1024 && this.head * 2 > this.starts.length) {
      this.starts = this.starts.slice(this.head);
      this.overflowAt -= this.head;
      this.head = 0;
    }
  }

  private emit(s: Start, o: Outcome): void {
    if (o.kind === 'record') {
      let text = this.text(s.pos, o.end);
      if (text.endsWith('\r')) text = text.slice(0, -1);
      // Blank lines are skipped, as csv-parse's skip_empty_lines does.
      if (text.trim() !== '') this.out.push({ kind: 'record', line: s.line, text });
      return;
    }
    const firstLine = o.wholeText || s.firstNl < 0 ? o.end : Math.min(o.end, s.firstNl);
    this.out.push({ kind: 'broken', line: s.line, text: this.text(s.pos, Math.min(firstLine, s.pos + 200)), reason: o.reason! });
  }

  /** Text between two absolute positions, from the chunks kept. */
  private text(from: number, to: number): string {
    if (to <= from) return '';
    let lo = 0;
    let hi = this.bases.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.bases[mid] <= from) lo = mid;
      else hi = mid - 1;
    }
    let out = '';
    for (let k = lo; k < this.chunks.length && this.bases[k] < to; k++) out += this.chunks[k].slice(Math.max(0, from - this.bases[k]), to - this.bases[k]);
    return out;
  }

  /** Lets go of chunks that end before the record being read (or before the read position). */
  private dropUnneededText(): void {
    const keepFrom = this.primary ? this.primary.pos : this.total;
    let n = 0;
    while (n < this.chunks.length - 1 && this.bases[n + 1] <= keepFrom) n++;
    if (n === this.chunks.length - 1 && this.bases[n] + this.chunks[n].length <= keepFrom) n++;
    if (n > 0) {
      this.chunks = this.chunks.slice(n);
      this.bases = this.bases.slice(n);
    }
  }
}

function transition(state: number, c: number, d: number): number {
  switch (state) {
    case U0:
      if (c === LF) return COMPLETE;
      if (c === QUOTE) return Q;
      return c === d ? U0 : U1;
    case U1:
      if (c === LF) return COMPLETE;
      return c === d ? U0 : U1;
    case Q:
      if (c === QUOTE) return QP;
      return c === LF ? QN : Q;
    case QN:
      return c === QUOTE ? QNP : QN;
    case QP:
      if (c === QUOTE) return Q; // "" is a literal quote
      if (c === LF) return COMPLETE;
      return c === d ? U0 : U1;
    default: // QNP
      if (c === QUOTE) return QN;
      if (c === LF) return COMPLETE;
      if (c === d) return U0;
      if (c === CR) return U1;
      // A quoted field that ran over a line break and "closes" right before other text is
      // almost always an unclosed quote that swallowed the next lines up to their first quote.
      return UNCLOSED;
  }
}

function root(g: Group): Group {
  let r = g;
  while (r.mergedInto) r = r.mergedInto;
  // Path compression keeps later lookups short.
  for (let x = g; x.mergedInto && x.mergedInto !== r; ) {
    const next: Group = x.mergedInto;
    x.mergedInto = r;
    x = next;
  }
  return r;
}

function merge(into: Group, from: Group): void {
  if (from.head) {
    if (into.tail) into.tail.next = from.head;
    else into.head = from.head;
    into.tail = from.tail;
  }
  into.live += from.live;
  from.mergedInto = into;
  from.head = from.tail = null;
  from.live = 0;
}

/** The delimiter among `,` `;` tab that occurs most often (outside quotes) in the header line. */
export function detectDelimiter(headerLine: string): string {
  const counts: Record<string, number> = { ',': 0, ';': 0, '\t': 0 };
  let inQuotes = false;
  for (const c of headerLine) {
    if (c === '"') inQuotes = !inQuotes;
    else if (!inQuotes && c in counts) counts[c]++;
  }
  let best = ',';
  for (const d of [';', '\t']) if (counts[d] > counts[best]) best = d;
  return best;
}
