/**
 * Variable masking: replaces the parts of a log message that change from one occurrence of an event
 * to the next (ids, addresses, numbers) with `<*>`, so the template miner sees the constant part.
 * Patterns are applied most-specific first: a block id must be masked before its digits are.
 */

/** The wildcard every masked variable becomes; the same token the template miner uses. */
export const WILDCARD = '<*>';

const hasDigit = /\d/;

// One pass per pattern family, each a single precompiled global regex (exported for the test that
// checks the `applies` shortcuts against applying every pattern). `applies` is a cheap test of
// something every match must contain, so most messages skip most patterns without a regex scan (a
// leading `\b` gives the regex engine nothing to skip ahead with). `digits` says whether the message
// had a digit at all; masking only removes digits, never adds one. Throughput: `npm run bench:model`,
// figures in model/README.md.
export const MASKS: readonly {
  readonly pattern: RegExp;
  readonly replacement: string;
  applies(s: string, digits: boolean): boolean;
}[] = [
  // HDFS block ids keep their prefix so the template still says what the variable was.
  {
    pattern: /blk_-?\d+/g,
    replacement: `blk_${WILDCARD}`,
    applies: (s, digits) => digits && s.includes('blk_'),
  },
  // UUIDs (request ids, task ids).
  {
    pattern: /\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b/g,
    replacement: WILDCARD,
    applies: (s) => s.includes('-'),
  },
  // IPv4 addresses with an optional port.
  {
    pattern: /\b\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?\b/g,
    replacement: WILDCARD,
    applies: (s, digits) => digits && s.includes('.'),
  },
  // Hex literals and long bare hex words (hashes, addresses) that contain at least one digit.
  {
    pattern: /\b0[xX][0-9a-fA-F]+\b/g,
    replacement: WILDCARD,
    applies: (s, digits) => digits && (s.includes('0x') || s.includes('0X')),
  },
  {
    pattern: /\b(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{8,}\b/g,
    replacement: WILDCARD,
    applies: (_, digits) => digits,
  },
  // Absolute file paths and URLs' paths: a slash-separated run after a boundary.
  {
    pattern: /(?<![\w.])(?:\.{1,2}|~)?(?:\/[\w.\-@~+%]+)+\/?/g,
    replacement: WILDCARD,
    applies: (s) => s.includes('/'),
  },
  // Numbers, signed and decimal, not glued to letters (`R02` stays, `12` and `-3.5` go).
  { pattern: /(?<![\w.-])-?\d+(?:\.\d+)*(?![\w])/g, replacement: WILDCARD, applies: (_, digits) => digits },
];

/**
 * Masks ids, addresses, paths and numbers in a message.
 *
 * @example
 * maskVariables('Received block blk_-42 of size 67108864 from /10.250.19.102');
 * // 'Received block blk_<*> of size <*> from <*>'
 */
export function maskVariables(message: string): string {
  const digits = hasDigit.test(message);
  let out = message;
  for (const mask of MASKS) if (mask.applies(out, digits)) out = out.replace(mask.pattern, mask.replacement);
  return out;
}
