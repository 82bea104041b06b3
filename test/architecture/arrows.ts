import type { ImportEdge } from './import-graph.ts';

/**
 * DESIGN.md's layout table as data: for each room, which rooms of this repository it may import and,
 * where DESIGN names them exhaustively (`contracts/`: zod; `runtime/`: hono, zod), which packages.
 * Elsewhere the table names the main packages of a room, not all of them, so only the arrows between
 * this repository's own folders are judged there.
 */

/** One room of the layout. */
export interface Room {
  /**
   * Repository-relative folder (ending in `/`) or file. `*` stands for one folder name, and each folder
   * it matches is a room of its own (`services/*\/`: a service may not import another service).
   * The most specific room of a file judges it.
   */
  readonly path: string;
  /** Rooms of this repository it may import, besides itself. */
  readonly mayImport: readonly string[];
  /** Rooms it may import types from (`import type`) and nothing else. */
  readonly typesFrom?: readonly string[];
  /** The packages it may import; Node built-ins are packages too (`node:`). @default - any package */
  readonly packages?: readonly string[];
  /** Why a room departs from DESIGN.md's row, when it does. */
  readonly because?: string;
}

/** What every room may import: the boundary shapes (DESIGN.md: "imported by every side"). */
const GROUND = 'contracts/';
const NODE = 'node:';

/** The deployment gate's pure core: the decision, its comparisons and judgement, the probe sender. */
const GATE_CORE = [
  'functions/deployment-gate/comparison.ts',
  'functions/deployment-gate/decision.ts',
  'functions/deployment-gate/judgement.ts',
  'functions/deployment-gate/probes.ts',
];

export const ROOMS: readonly Room[] = [
  { path: 'contracts/', mayImport: [], packages: ['zod'] },
  { path: 'runtime/', mayImport: [GROUND], packages: ['hono', 'zod', NODE] },
  { path: 'config/', mayImport: [GROUND] },
  { path: 'platform/', mayImport: ['platform/', 'config/', GROUND, 'runtime/'] },
  { path: 'platform/wiring/', mayImport: ['config/', GROUND] },
  { path: 'platform/aws/', mayImport: ['platform/wiring/', GROUND], typesFrom: ['config/'] },
  {
    path: 'platform/local/',
    mayImport: ['platform/wiring/', GROUND, 'runtime/', ...GATE_CORE],
    typesFrom: ['config/'],
    because:
      "the local Lambda host is a process of its own: it starts through runtime/process.ts; the local rehearsal judges a release with the deployment gate's own pure core (issue 24: one decision locally and on AWS), never its handler",
  },
  { path: 'platform/deploy/', mayImport: ['platform/wiring/', GROUND], typesFrom: ['config/'] },
  { path: 'services/*/', mayImport: ['runtime/', GROUND] },
  {
    path: 'services/backend/',
    mayImport: ['runtime/', GROUND, 'model/client/'],
    because:
      'the console prediction proxy calls the model endpoint through the one scoring client (DESIGN.md: shared logic has one home)',
  },
  { path: 'services/anomaly-sidecar/', mayImport: ['model/', 'runtime/', GROUND] },
  { path: 'functions/*/', mayImport: ['model/', 'runtime/', GROUND, 'functions/shared/'] },
  { path: 'functions/', mayImport: ['functions/', 'model/', 'runtime/', GROUND] },
  { path: 'model/', mayImport: [GROUND] },
  {
    path: 'model/serve/',
    mayImport: ['model/', 'runtime/', GROUND],
    because: 'the inference server is a process: start-up, error handler and body limit come from runtime/',
  },
  { path: 'scripts/', mayImport: ['scripts/', 'platform/', 'config/', GROUND, 'runtime/', 'services/'] },
];

/** This repository's own declaration: the library never imports it (DESIGN.md, Layout). */
export const REPOSITORY_DECLARATION = 'config/declaration.ts';

/** One import against the table. */
export interface Violation {
  readonly from: string;
  /** The repository file or package imported. */
  readonly to: string;
  readonly use: 'value' | 'type';
  readonly line: number;
  /** The rule it breaks, in words. */
  readonly rule: string;
}

/** The most specific room of a file, with the folder `*` matched, or undefined outside every room. */
export function roomOf(
  file: string,
  rooms: readonly Room[] = ROOMS,
): { room: Room; self: string } | undefined {
  let best: { room: Room; self: string } | undefined;
  for (const room of rooms) {
    const self = matchRoom(room.path, file);
    if (self === undefined) continue;
    // The longer folder wins; between a pattern and a name for the same folder, the name.
    const better =
      best === undefined ||
      self.length > best.self.length ||
      (self.length === best.self.length && !room.path.includes('*') && best.room.path.includes('*'));
    if (better) best = { room, self };
  }
  return best;
}

function matchRoom(pattern: string, file: string): string | undefined {
  if (!pattern.endsWith('/')) return file === pattern ? pattern : undefined;
  const parts = pattern.split('/').slice(0, -1);
  const segments = file.split('/');
  if (segments.length <= parts.length) return undefined;
  for (let i = 0; i < parts.length; i++) {
    if (parts[i] !== '*' && parts[i] !== segments[i]) return undefined;
  }
  return `${segments.slice(0, parts.length).join('/')}/`;
}

const within = (path: string, room: string) => (room.endsWith('/') ? path.startsWith(room) : path === room);

/** Every import of `edges` that the table forbids. */
export function checkArrows(edges: readonly ImportEdge[], rooms: readonly Room[] = ROOMS): Violation[] {
  const violations: Violation[] = [];
  for (const edge of edges) {
    const found = roomOf(edge.from, rooms);
    const at = { from: edge.from, use: edge.use, line: edge.line };
    if (edge.target.kind === 'file') {
      const to = edge.target.path;
      if (to === REPOSITORY_DECLARATION && edge.from !== REPOSITORY_DECLARATION) {
        violations.push({ ...at, to, rule: "the library never imports this repository's declaration" });
        continue;
      }
      if (!found || within(to, found.self)) continue;
      const { room } = found;
      if (room.mayImport.some((r) => within(to, r))) continue;
      if (edge.use === 'type' && room.typesFrom?.some((r) => within(to, r))) continue;
      const target = roomOf(to, rooms)?.self ?? to;
      violations.push({
        ...at,
        to,
        rule: `${found.self} may not import ${target} (it may import ${describe(room)})`,
      });
      continue;
    }
    if (!found?.room.packages) continue;
    const name = edge.target.kind === 'builtin' ? `${NODE}${edge.target.name}` : edge.target.name;
    const allowed = found.room.packages.some((p) => (p === NODE ? name.startsWith(NODE) : p === name));
    if (!allowed) {
      violations.push({
        ...at,
        to: name,
        rule: `${found.self} may import only the packages ${found.room.packages.join(', ')}`,
      });
    }
  }
  return violations;
}

function describe(room: Room): string {
  const rooms = room.mayImport.length > 0 ? room.mayImport.join(', ') : 'no other room';
  return room.typesFrom ? `${rooms}; types from ${room.typesFrom.join(', ')}` : rooms;
}

/** A violation as one line: `file:line imports target (value|type): rule`. */
export function formatViolation(v: Violation): string {
  return `${v.from}:${v.line} imports ${v.to}${v.use === 'type' ? ' (types only)' : ''}: ${v.rule}`;
}
