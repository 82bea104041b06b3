import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import type { Context, Hono } from 'hono';
import type { IdentityResponse } from '../../../contracts/console-ops.ts';
import type { RequestLogEnv } from '../../../runtime/request-log.ts';

/**
 * The signed-in user on AWS. With an `authenticate-oidc`/`authenticate-cognito` listener rule, the ALB
 * passes the user's claims to the target in `x-amzn-oidc-data`: a JWT signed with ES256 by the load
 * balancer, whose header names the key (`kid`) and the signing ALB (`signer`). The public key is at
 * `https://public-keys.auth.elb.<region>.amazonaws.com/<kid>` (PEM). Signing out means expiring the
 * `AWSELBAuthSessionCookie-*` cookies and sending the browser to the IdP's logout endpoint.
 * (Elastic Load Balancing user guide, "Authenticate users using an Application Load Balancer".)
 */
export interface AlbIdentityOptions {
  /**
   * The ALB allowed to sign the claims; when set, the signature, the signer and `exp` are checked and
   * anything else counts as signed out. @default - claims are only decoded (display only: the
   * frontend's security group admits only the ALB, which strips and rewrites this header)
   */
  readonly albArn?: string;
  /** Where sign-out sends the browser after expiring the session cookies (the IdP's logout URL). @default '/' */
  readonly signOutRedirectUrl?: string;
  /** @default fetches the ALB's regional public-key endpoint */
  readonly publicKey?: (kid: string, region: string) => Promise<string>;
  /** @default Date.now */
  readonly now?: () => number;
}

export const SIGN_OUT_PATH = '/auth/sign-out';
/** The ALB splits a large session into up to four cookies, `-0` to `-3`. */
const SESSION_COOKIES = [0, 1, 2, 3].map((i) => `AWSELBAuthSessionCookie-${i}`);

/** The signed-in user of a request (email, else username, name or subject), or undefined. */
export type SignedInUser = (c: Context) => Promise<string | undefined>;

/**
 * `/auth/me` and `/auth/sign-out` on the frontend server. Returns how to read the signed-in user of
 * any request (the live stream's identity), with the same checks as `/auth/me`.
 */
export function mountAlbIdentity(app: Hono<RequestLogEnv>, options: AlbIdentityOptions = {}): SignedInUser {
  const keys = new Map<string, Promise<KeyObject>>();
  const keyFor = (kid: string, region: string) => {
    let key = keys.get(kid);
    if (!key) {
      key = (options.publicKey ?? fetchAlbPublicKey)(kid, region).then((pem) => createPublicKey(pem));
      // A failed fetch is not cached, so the next request tries again.
      key.catch(() => keys.delete(kid));
      keys.set(kid, key);
    }
    return key;
  };
  const claimsOf = async (c: Context) => {
    const token = c.req.header('x-amzn-oidc-data');
    return token ? await readClaims(token, options, keyFor).catch(() => undefined) : undefined;
  };

  app.get('/auth/me', async (c) => {
    c.header('cache-control', 'no-store');
    const claims = await claimsOf(c);
    if (!claims) return c.json({ signedIn: false } satisfies IdentityResponse);
    const email = typeof claims.email === 'string' ? claims.email : undefined;
    const name = nameOf(claims);
    if (!name) return c.json({ signedIn: false } satisfies IdentityResponse);
    const body: IdentityResponse = {
      signedIn: true,
      name,
      ...(email ? { email } : {}),
      // Relative: the console may be served under an OperationsConsole's path.
      signOutUrl: SIGN_OUT_PATH.slice(1),
    };
    return c.json(body);
  });

  app.get(SIGN_OUT_PATH, (c) => {
    for (const name of SESSION_COOKIES) {
      c.header(
        'set-cookie',
        `${name}=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Secure; HttpOnly`,
        {
          append: true,
        },
      );
    }
    c.header('cache-control', 'no-store');
    return c.redirect(options.signOutRedirectUrl ?? '/', 302);
  });

  return async (c) => {
    const claims = await claimsOf(c);
    return (claims && nameOf(claims)) || undefined;
  };
}

function nameOf(claims: Claims): string | undefined {
  const email = typeof claims.email === 'string' ? claims.email : undefined;
  return (
    email ?? stringClaim(claims, 'username') ?? stringClaim(claims, 'name') ?? stringClaim(claims, 'sub')
  );
}

type Claims = Record<string, unknown>;

async function readClaims(
  token: string,
  options: AlbIdentityOptions,
  keyFor: (kid: string, region: string) => Promise<KeyObject>,
): Promise<Claims | undefined> {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const header = decodeJson(parts[0]!);
  const claims = decodeJson(parts[1]!);
  if (!header || !claims) return undefined;
  if (!options.albArn) return claims;
  if (header.alg !== 'ES256' || header.signer !== options.albArn || typeof header.kid !== 'string')
    return undefined;
  const region = options.albArn.split(':')[3];
  if (!region) return undefined;
  const key = await keyFor(header.kid, region);
  const signature = Buffer.from(parts[2]!.replace(/=+$/, ''), 'base64url');
  const valid = verify(
    'sha256',
    Buffer.from(`${parts[0]}.${parts[1]}`),
    { key, dsaEncoding: 'ieee-p1363' },
    signature,
  );
  if (!valid) return undefined;
  const exp = Number(header.exp ?? claims.exp);
  if (Number.isFinite(exp) && exp * 1000 < (options.now ?? Date.now)()) return undefined;
  return claims;
}

/** The ALB pads its base64url segments with `=`, which strict JWT decoders reject; strip it. */
function decodeJson(segment: string): Claims | undefined {
  try {
    const value = JSON.parse(
      Buffer.from(segment.replace(/=+$/, ''), 'base64url').toString('utf8'),
    ) as unknown;
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Claims) : undefined;
  } catch {
    return undefined;
  }
}

function stringClaim(claims: Claims, name: string): string | undefined {
  const value = claims[name];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

async function fetchAlbPublicKey(kid: string, region: string): Promise<string> {
  if (!/^[\w-]+$/.test(kid) || !/^[a-z0-9-]+$/.test(region)) throw new Error('bad key id or region');
  const response = await fetch(`https://public-keys.auth.elb.${region}.amazonaws.com/${kid}`, {
    signal: AbortSignal.timeout(3000),
  });
  if (!response.ok) throw new Error(`public key: HTTP ${response.status}`);
  return response.text();
}
