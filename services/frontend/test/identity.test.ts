import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, test } from 'node:test';
import { Hono } from 'hono';
import type { RequestLogEnv } from '../../../runtime/request-log.ts';
import { type AlbIdentityOptions, mountAlbIdentity } from '../server/alb-identity.ts';

// The ALB's x-amzn-oidc-data: an ES256 JWT whose segments are base64url *with* `=` padding, and whose
// header names the signing key and the load balancer (Elastic Load Balancing user guide).
const ALB_ARN = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/acme/50dc6c495c0c9188';
const NOW = Date.UTC(2026, 11, 1, 22, 0, 0);
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const PEM = publicKey.export({ type: 'spki', format: 'pem' }).toString();

function albToken(claims: Record<string, unknown>, header: Record<string, unknown> = {}): string {
  const encode = (value: unknown) => {
    const text = Buffer.from(JSON.stringify(value)).toString('base64');
    return text.replace(/\+/g, '-').replace(/\//g, '_'); // keeps the `=` padding, as the ALB does
  };
  const head = encode({
    alg: 'ES256',
    kid: '12345678-1234-1234-1234-123456789012',
    signer: ALB_ARN,
    iss: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc',
    client: 'client-id',
    exp: NOW / 1000 + 120,
    ...header,
  });
  const body = encode(claims);
  const signature = sign('sha256', Buffer.from(`${head}.${body}`), {
    key: privateKey,
    dsaEncoding: 'ieee-p1363',
  });
  return `${head}.${body}.${signature.toString('base64url')}`;
}

function appWith(options: AlbIdentityOptions) {
  const app = new Hono<RequestLogEnv>();
  mountAlbIdentity(app, options);
  return app;
}

const me = async (app: Hono<RequestLogEnv>, token?: string) =>
  (await app.request('/auth/me', token ? { headers: { 'x-amzn-oidc-data': token } } : {})).json();

describe('ALB identity', () => {
  const fetched: string[] = [];
  const verifying = appWith({
    albArn: ALB_ARN,
    signOutRedirectUrl:
      'https://auth.example.com/logout?client_id=abc&logout_uri=https://console.example.com/',
    publicKey: async (kid, region) => {
      fetched.push(`${region}/${kid}`);
      return PEM;
    },
    now: () => NOW,
  });

  test('a valid token shows the email; the key is fetched once per kid from the ALB’s region', async () => {
    const token = albToken({ sub: 'u-1', email: 'ana@example.com', username: 'ana' });
    assert.deepEqual(await me(verifying, token), {
      signedIn: true,
      name: 'ana@example.com',
      email: 'ana@example.com',
      signOutUrl: 'auth/sign-out',
    });
    await me(verifying, token);
    assert.deepEqual(fetched, ['eu-west-1/12345678-1234-1234-1234-123456789012']);
  });

  test('no email: the username, else the subject', async () => {
    assert.equal((await me(verifying, albToken({ sub: 'u-2', username: 'bo' }))).name, 'bo');
    assert.equal((await me(verifying, albToken({ sub: 'u-3' }))).name, 'u-3');
  });

  test('a forged, expired or foreign token, or none, is signed out', async () => {
    const good = albToken({ sub: 'u-1', email: 'ana@example.com' });
    const [h, , s] = good.split('.');
    const forgedBody = Buffer.from(JSON.stringify({ sub: 'u-1', email: 'mallory@example.com' })).toString(
      'base64url',
    );
    assert.deepEqual(await me(verifying, `${h}.${forgedBody}.${s}`), { signedIn: false });
    assert.deepEqual(await me(verifying, albToken({ sub: 'u-1' }, { exp: NOW / 1000 - 1 })), {
      signedIn: false,
    });
    assert.deepEqual(await me(verifying, albToken({ sub: 'u-1' }, { signer: `${ALB_ARN}x` })), {
      signedIn: false,
    });
    assert.deepEqual(await me(verifying, 'not-a-jwt'), { signedIn: false });
    assert.deepEqual(await me(verifying), { signedIn: false });
  });

  test('without an ALB ARN the claims are decoded for display only', async () => {
    const decoding = appWith({ publicKey: () => Promise.reject(new Error('must not be called')) });
    const [h, , s] = albToken({}).split('.');
    const body = Buffer.from(JSON.stringify({ sub: 'u-9', email: 'cy@example.com' })).toString('base64url');
    assert.equal((await me(decoding, `${h}.${body}.${s}`)).name, 'cy@example.com');
  });

  test('sign-out expires every ALB session cookie and redirects to the IdP logout', async () => {
    const response = await verifying.request('/auth/sign-out');
    assert.equal(response.status, 302);
    assert.equal(
      response.headers.get('location'),
      'https://auth.example.com/logout?client_id=abc&logout_uri=https://console.example.com/',
    );
    const cookies = response.headers.getSetCookie();
    assert.deepEqual(
      cookies.map((c) => c.split('=')[0]),
      [
        'AWSELBAuthSessionCookie-0',
        'AWSELBAuthSessionCookie-1',
        'AWSELBAuthSessionCookie-2',
        'AWSELBAuthSessionCookie-3',
      ],
    );
    assert.ok(cookies.every((c) => c.includes('Max-Age=0') && c.includes('Path=/')));
  });
});
