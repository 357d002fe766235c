// Cuts CSV text into records before csv-parse reads their fields. csv-parse's own
// `skip_records_with_error` does not resynchronise: after a row over `max_record_size` or an
// unclosed quote it silently drops every row after it (seen with csv-parse 7.0). Here a broken
// row costs only its own line: the record is reported broken and reading resumes at the line
// after the one it started on. Quote rules match csv-parse with `relax_quotes`: a quote opens
// a quoted field only at the start of a field; `""` inside one is a literal quote.

export type SplitRecord =
  | { kind: 'record'; line: number; text: string }
  | { kind: 'broken'; line: number; text: string; reason: string };

export class RecordSplitter {
  private buf = '';
  private inQuotes = false;
  /** Saw a `"` inside a quoted field: the next character says whether it closes it. */
  private quotePending = false;
  /** The open quoted field has run over a line break. */
  private quotedNewline = false;
  private fieldStart = true;
  /** Discarding the rest of an over-long unquoted line. */
  private discarding = false;
  /** Physical line the current record starts on (1-based). */
  private startLine = 1;
  /** Physical line being scanned. */
  private line = 1;
  private readonly out: SplitRecord[] = [];

  constructor(
    private readonly delimiter: string,
    private readonly maxRecordChars: number,
  ) {}

  /** Feeds decoded text; returns the records completed by it. */
  feed(text: string): SplitRecord[] {
    let pending: string | null = text;
    while (pending !== null) pending = this.scan(pending);
    return this.out.splice(0);
  }

  /** Ends the input: an unclosed quote is reported, then the lines after it are read again. */
  end(): SplitRecord[] {
    while (this.inQuotes && !this.quotePending) {
      const rest = this.breakRecord('a quote (") opened on this line is never closed');
      let pending: string | null = rest;
      while (pending !== null) pending = this.scan(pending);
    }
    this.finishRecord();
    return this.out.splice(0);
  }

  /** Scans `text`; returns text to scan again from a fresh state after a broken record, or null. */
  private scan(text: string): string | null {
    const d = this.delimiter;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (this.discarding) {
        if (c === '\n') {
          this.discarding = false;
          this.line++;
          this.resetRecord();
        }
        continue;
      }
      if (this.quotePending) {
        this.quotePending = false;
        if (c === '"') {
          this.buf += c;
          continue;
        }
        // A quoted field that ran over a line break and "closes" right before other text is
        // almost always an unclosed quote that swallowed the next lines up to their first quote.
        if (this.quotedNewline && c !== this.delimiter && c !== '\n' && c !== '\r') {
          return this.breakRecord('a quote (") opened on this line is never closed') + text.slice(i);
        }
        this.inQuotes = false; // the quote closed the field; c is read as unquoted text
        this.quotedNewline = false;
      }
      if (this.inQuotes) {
        this.buf += c;
        if (c === '"') this.quotePending = true;
        else if (c === '\n') {
          this.line++;
          this.quotedNewline = true;
        }
      } else if (c === '\n') {
        this.line++;
        this.finishRecord();
        continue;
      } else {
        this.buf += c;
        if (c === '"' && this.fieldStart) this.inQuotes = true;
        this.fieldStart = c === d;
      }
      if (this.buf.length > this.maxRecordChars) {
        const reason = `the row is longer than ${this.maxRecordChars} characters${this.inQuotes ? ' (is a closing quote missing?)' : ''}`;
        if (!this.inQuotes) {
          this.out.push({ kind: 'broken', line: this.startLine, text: this.buf.slice(0, 200), reason });
          this.buf = '';
          this.discarding = true;
          continue;
        }
        return this.breakRecord(reason) + text.slice(i + 1);
      }
    }
    return null;
  }

  /**
   * Reports the record in progress as broken (its first line only) and returns the text after
   * that first line, to be scanned again as fresh records.
   */
  private breakRecord(reason: string): string {
    const nl = this.buf.indexOf('\n');
    const first = nl < 0 ? this.buf : this.buf.slice(0, nl);
    const rest = nl < 0 ? '' : this.buf.slice(nl + 1);
    this.out.push({ kind: 'broken', line: this.startLine, text: first.slice(0, 200), reason });
    this.line = this.startLine + (nl < 0 ? 0 : 1);
    this.buf = '';
    this.resetRecord();
    return rest;
  }

  private finishRecord(): void {
    let text = this.buf;
    if (text.endsWith('\r')) text = text.slice(0, -1);
    // Blank lines are skipped, as csv-parse's skip_empty_lines does.
    if (text.trim() !== '') this.out.push({ kind: 'record', line: this.startLine, text });
    this.buf = '';
    this.resetRecord();
  }

  private resetRecord(): void {
    this.inQuotes = false;
    this.quotePending = false;
    this.quotedNewline = false;
    this.fieldStart = true;
    this.startLine = this.line;
  }
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
