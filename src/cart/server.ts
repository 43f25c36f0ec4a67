/**
 * The cart's HTTP and WebSocket server (Fastify): the front end's files, the
 * JSON API, and /api/events. Every body is validated with zod; errors are one
 * line of JSON, never a stack trace.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import fastifyWebsocket from '@fastify/websocket';
import { formatIssue } from '../protocol/index.js';
import { renderHtml } from '../records/report.js';
import type { RecordStore } from '../records/store.js';
import { FaultSpecError, parseFaultSpec } from '../drivers/fault-spec.js';
import { ActionSchema, HistoryQuerySchema, SimFaultSchema, StartSchema, UploadSchema, zodMessage } from './api.js';
import type { BoardHost } from './board-host.js';
import { checklistFor } from './checklist.js';
import type { Library } from './library.js';
import { installSecurity, REPORT_CSP, type SecurityOptions } from './security.js';
import { CartConflict, type CartMessage, type CartSessions } from './sessions.js';

export interface ServerDeps {
  sessions: CartSessions;
  library: Library;
  store: RecordStore;
  host: BoardHost;
  bundleDir: string;
  security: SecurityOptions;
  onInternalError?: (message: string) => void;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly detail?: string[],
  ) {
    super(message);
  }
}

export async function buildServer(d: ServerDeps): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, bodyLimit: 1_048_576, forceCloseConnections: true });
  installSecurity(app, d.security);
  // On close, end every connection, upgraded or refused ones too (a refused WebSocket upgrade is no longer an HTTP connection the server tracks).
  const sockets = new Set<import('node:net').Socket>();
  app.server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  app.addHook('preClose', async () => {
    for (const s of sockets) s.destroy();
  });
  await app.register(fastifyWebsocket, { options: { maxPayload: 4096 } });
  await app.register(fastifyStatic, { root: d.bundleDir, prefix: '/', index: ['index.html'], cacheControl: false });

  app.setErrorHandler((err: Error & { statusCode?: number; validation?: unknown }, _req, reply) => {
    if (err instanceof HttpError) return reply.code(err.status).send({ error: err.message, ...(err.detail ? { detail: err.detail } : {}) });
    if (err instanceof CartConflict) return reply.code(409).send({ error: err.message });
    const status = err.statusCode ?? 500;
    if (status >= 500) {
      d.onInternalError?.(err.message.split('\n')[0] ?? '');
      return reply.code(500).send({ error: 'internal error' });
    }
    return reply.code(status).send({ error: err.message.split('\n')[0] });
  });
  app.setNotFoundHandler((_req, reply) => reply.code(404).send({ error: 'not found' }));

  const parse = <T>(
    schema: { safeParse: (x: unknown) => { success: true; data: T } | { success: false; error: import('zod').ZodError } },
    body: unknown,
  ): T => {
    const r = schema.safeParse(body);
    if (!r.success) throw new HttpError(400, zodMessage(r.error));
    return r.data;
  };

  app.get('/api/protocols', async () => ({ protocols: d.library.list(), clinicFolder: d.library.clinicDir }));

  app.get<{ Params: { id: string } }>('/api/protocols/:id', async (req) => {
    const detail = d.library.detail(req.params.id);
    if (!detail) throw new HttpError(404, `no protocol ${req.params.id}`);
    if ('errors' in detail && !('plan' in detail)) throw new HttpError(422, `${req.params.id} does not validate`, detail.errors);
    return detail;
  });

  app.post('/api/protocols/check', async (req) => {
    const { file } = parse(UploadSchema, req.body);
    const r = d.library.parseUpload(file.name, file.text);
    if (!r.ok) throw new HttpError(422, `${file.name} does not validate`, r.errors.map(formatIssue));
    return d.library.describe('upload', r.plan);
  });

  app.get('/api/session', async () => d.sessions.snapshot());

  app.post('/api/session', async (req, reply) => {
    const body = parse(StartSchema, req.body);
    const r = 'key' in body.protocol ? d.library.resolve(body.protocol.key) : d.library.parseUpload(body.protocol.file.name, body.protocol.file.text);
    if (!r) throw new HttpError(404, `no protocol ${'key' in body.protocol ? body.protocol.key : ''}`);
    if (!r.ok) throw new HttpError(422, 'the protocol does not validate', r.errors.map(formatIssue));
    const items = checklistFor(r.plan);
    const answers = new Map(body.context.contraindications.map((a) => [a.id, a]));
    const missing = items.filter((i) => !answers.has(i.id));
    if (missing.length) throw new HttpError(400, `the checklist is not answered: ${missing.map((i) => i.id).join(', ')}`);
    const present = items.filter((i) => i.kind === 'contraindication' && answers.get(i.id)?.present);
    if (present.length) throw new HttpError(422, `a contraindication is present (${present.map((i) => i.id).join(', ')}): this protocol must not be given`);
    const id = d.sessions.start(r.plan, body.context);
    return reply.code(201).send({ recordId: id });
  });

  app.post('/api/session/actions', async (req) => {
    d.sessions.act(parse(ActionSchema, req.body));
    return { ok: true };
  });

  app.post('/api/sim/faults', async (req) => {
    if (!d.host.sim) throw new HttpError(404, 'faults can be injected only into the simulated board');
    const body = parse(SimFaultSchema, req.body);
    if ('restore' in body) {
      d.host.restore(body.restore);
      d.sessions.noteInjected(`restore ${body.restore}`);
      return { ok: true };
    }
    const fault = body.fault;
    try {
      d.host.inject(parseFaultSpec(fault));
    } catch (e) {
      if (e instanceof FaultSpecError) throw new HttpError(400, e.message.split('\n')[0] ?? '');
      throw e;
    }
    d.sessions.noteInjected(fault);
    return { ok: true };
  });

  app.get('/api/history', async (req) => {
    const q = parse(HistoryQuerySchema, req.query);
    return { sessions: d.store.list(q.limit ?? 200, { all: q.all === 'true', ...(q.patient ? { patient: q.patient } : {}) }) };
  });

  app.get<{ Params: { id: string } }>('/api/history/:id/report', async (req, reply) => {
    if (!/^\d+$/.test(req.params.id)) throw new HttpError(400, 'a session id is a whole number');
    const rec = d.store.get(Number(req.params.id));
    if (!rec) throw new HttpError(404, `no session ${req.params.id}`);
    return reply.header('content-security-policy', REPORT_CSP).type('text/html; charset=utf-8').send(renderHtml(rec));
  });

  app.get('/api/events', { websocket: true }, (socket) => {
    const send = (m: CartMessage) => {
      if (socket.readyState === 1) socket.send(JSON.stringify(m));
    };
    send(d.sessions.snapshot());
    const off = d.sessions.subscribe(send);
    socket.on('close', off);
    socket.on('error', off);
    socket.on('message', () => undefined); // the page only listens; actions go through POST
  });

  return app;
}
