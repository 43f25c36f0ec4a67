/**
 * Who may talk to the cart. On loopback (the default) anyone on this machine,
 * but only through a Host header naming the cart (a web page elsewhere cannot
 * reach it through DNS rebinding). On any other address a token is required
 * on every request: `Authorization: Bearer`, or the cookie the page gets when
 * it is opened once with `?token=`. The WebSocket's Origin must be the cart's
 * own; so must a POST's. Every response carries a strict Content-Security-Policy.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export const COOKIE = 'modality_token';

export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "frame-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The stored report is a self-contained HTML page with its own inline styles and SVG; no scripts. */
export const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'";

export interface SecurityOptions {
  listen: string;
  token: string | null;
}

export function isLoopback(addr: string): boolean {
  return addr === 'localhost' || addr === '::1' || /^127\./.test(addr);
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a),
    y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookie(req: FastifyRequest, name: string): string | null {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return null;
}

function hostName(host: string | undefined): string {
  if (!host) return '';
  return host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
}

export function installSecurity(app: FastifyInstance, o: SecurityOptions): void {
  const allowedHosts = new Set([o.listen, ...(isLoopback(o.listen) ? ['127.0.0.1', 'localhost', '::1'] : [])]);
  const deny = (reply: FastifyReply, code: number, message: string) => reply.code(code).type('text/plain; charset=utf-8').send(message);

  app.addHook('onRequest', async (req, reply) => {
    // Without a token, only requests addressed to the cart by name (no DNS rebinding).
    if (!o.token && !allowedHosts.has(hostName(req.headers.host))) return deny(reply, 421, 'This cart answers only to its own address.');
    const origin = req.headers.origin;
    if (origin !== undefined && (req.method !== 'GET' || req.headers.upgrade)) {
      if (origin !== `http://${req.headers.host}`) return deny(reply, 403, 'Requests from other sites are refused.');
    }
    if (!o.token) return;
    const url = new URL(req.url, 'http://cart');
    const given = url.searchParams.get('token');
    if (given !== null && req.method === 'GET' && same(given, o.token)) {
      // Opened once with ?token=: remember it in a cookie only this site sends, and drop it from the address bar.
      url.searchParams.delete('token');
      reply.header('set-cookie', `${COOKIE}=${encodeURIComponent(o.token)}; HttpOnly; SameSite=Strict; Path=/`);
      return reply.redirect(`${url.pathname}${url.search}`, 303);
    }
    const auth = req.headers.authorization;
    const bearer = auth?.startsWith('Bearer ') ? auth.slice(7) : null;
    const c = cookie(req, COOKIE);
    if ((bearer !== null && same(bearer, o.token)) || (c !== null && same(c, o.token))) return;
    return deny(reply, 401, 'This cart needs its access token: open it with ?token=<token> once, or send Authorization: Bearer <token>.');
  });

  app.addHook('onSend', async (req, reply, payload) => {
    if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', CSP);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', reply.getHeader('content-security-policy') === REPORT_CSP ? 'SAMEORIGIN' : 'DENY');
    reply.header('cache-control', req.url.startsWith('/api/') ? 'no-store' : 'no-cache');
    return payload;
  });
}
