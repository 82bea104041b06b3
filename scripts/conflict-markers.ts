/** A line that looks like one git writes for an unresolved merge conflict. */
export interface ConflictMarker {
  /** 1-based line number. */
  readonly line: number;
  readonly text: string;
}

// Exactly seven of the character, alone or followed by a space and a label (`<<<<<<< HEAD`,
// `>>>>>>> branch`), as git writes them. A formatter may have indented the line, put it in a
// Markdown table cell (`| ======= |`) or read `>>>>>>>` as nested quotes (`> > > > > > >`); those
// forms count too.
const MARKER = /^[\s|]*(?:<{7}|={7}|>{7}|(?:> ){6}>)(?:\s.*)?$/;

/** Every line of `text` that is a merge-conflict marker. */
export function conflictMarkers(text: string): ConflictMarker[] {
  const found: ConflictMarker[] = [];
  text.split('\n').forEach((line, index) => {
    if (MARKER.test(line)) found.push({ line: index + 1, text: line.replace(/\s+$/, '') });
  });
  return found;
}
