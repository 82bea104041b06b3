/**
 * Whether a request's `Host` names this machine's loopback (`localhost`, `127.0.0.1`, `[::1]`, any
 * port). Loopback control routes (the local runtime's control endpoint, the backend's fault switch)
 * check it: a page on a name the attacker rebinds to 127.0.0.1 reaches them from the victim's browser,
 * with its own name in `Host` (DNS rebinding).
 *
 * @example
 * isLoopbackHost('127.0.0.1:8081'); // true
 * isLoopbackHost('evil.example:8081'); // false
 */
export function isLoopbackHost(host: string | undefined): boolean {
  if (host === undefined) return false;
  const match = /^(localhost|127\.0\.0\.1|\[::1\])(?::\d{1,5})?$/i.exec(host.trim());
  return match !== null;
}

/** Every `Host` a request carries: its own and the one a proxy in front forwarded (`x-forwarded-host`). */
export function requestHosts(
  host: string | undefined,
  forwardedHost: string | undefined,
): (string | undefined)[] {
  return forwardedHost === undefined ? [host] : [host, ...forwardedHost.split(',').map((h) => h.trim())];
}
