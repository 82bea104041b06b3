/**
 * Session keys: the id that ties the lines of one request, block or task together, so sequences and
 * count vectors can be built per session (HDFS block ids, request/trace ids, task ids, UUIDs).
 */

const BLOCK_ID = /blk_-?\d+/;
const KEYED_ID = /\b(?:request|req|trace|task|job|session|correlation)[_-]?id["']?\s*[=:]\s*["']?([\w.:-]+)/i;
const UUID = /\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b/;

/**
 * The session a message belongs to, or `undefined` when it names none.
 *
 * @example
 * sessionIdOf('Receiving block blk_-1608999687919862906 src: /10.250.19.102:54106'); // 'blk_-1608999687919862906'
 * sessionIdOf('GET /orders 200 request_id=7f3a'); // '7f3a'
 */
export function sessionIdOf(message: string): string | undefined {
  return BLOCK_ID.exec(message)?.[0] ?? KEYED_ID.exec(message)?.[1] ?? UUID.exec(message)?.[0];
}
