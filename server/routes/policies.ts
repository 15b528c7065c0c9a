// User API, response policies (contract/wire/policy.ts): list, create, read,
// change, delete. A policy acts on the incident reports of its workspace's
// agents (server/policy/respond.ts).
import Router from '@koa/router';
import { type NewPolicy, newPolicy, type PatchPolicy, patchPolicy } from '../../contract/wire/policy.ts';
import type { Deps } from '../app.ts';
import { userAuth } from '../auth.ts';
import { body, reply } from '../codec.ts';
import type { Row } from '../db.ts';
import { notFound } from '../errors.ts';
import * as P from '../sql/policies.ts';
import { validate } from '../validate.ts';
import { emptyBody, idOf, input, KB, noBody, wsId } from './user-common.ts';

const present = ({ workspace_id: _, ...p }: Row) => p;

export function policyRoutes({ db }: Deps): Router {
  const r = new Router({ prefix: '/api/v1' });
  const auth = userAuth(db);

  r.get('/policies', auth, noBody, async (ctx) => reply(ctx, 200, { policies: (await P.listPolicies(db, wsId(ctx))).map(present) }));
  r.post('/policies', auth, body(16 * KB), validate(newPolicy), async (ctx) => {
    reply(ctx, 201, present(await P.createPolicy(db, wsId(ctx), input<NewPolicy>(ctx))));
  });
  r.get('/policies/:id', auth, noBody, async (ctx) => {
    const p = await P.getPolicy(db, wsId(ctx), idOf(ctx));
    if (!p) throw notFound('policy');
    reply(ctx, 200, present(p));
  });
  r.patch('/policies/:id', auth, body(16 * KB), validate(patchPolicy), async (ctx) => {
    const p = await P.updatePolicy(db, wsId(ctx), idOf(ctx), input<PatchPolicy>(ctx));
    if (!p) throw notFound('policy');
    reply(ctx, 200, present(p));
  });
  r.delete('/policies/:id', auth, ...emptyBody, async (ctx) => {
    if (!(await P.deletePolicy(db, wsId(ctx), idOf(ctx)))) throw notFound('policy');
    ctx.status = 204;
  });
  return r;
}
