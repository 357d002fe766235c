// The record splitter as it was before it was made linear (it scanned the lines after a broken
// record again), kept as the oracle the linear one must agree with. Two corner cases changed in
// both: a `""` that takes a row over the limit is counted like any character, and an over-long
// quoted row that has no line break yet is skipped to the end of its line instead of having the
// rest of that line read as a new record.
import type { SplitRecord } from '../../src/csv/record-splitter.js';

export class ReferenceSplitter {
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
          if (this.buf.length > this.maxRecordChars) {
            const rest = this.overLongQuoted(`the row is longer than ${this.maxRecordChars} characters (is a closing quote missing?)`);
            if (rest !== null) return rest + text.slice(i + 1);
          }
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
        const rest = this.overLongQuoted(reason);
        if (rest !== null) return rest + text.slice(i + 1);
      }
    }
    return null;
  }

  /** Breaks an over-long quoted record: null when it has no line break yet (its line is skipped). */
  private overLongQuoted(reason: string): string | null {
    const multiLine = this.buf.includes('\n');
    const rest = this.breakRecord(reason);
    if (multiLine) return rest;
    this.discarding = true;
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

