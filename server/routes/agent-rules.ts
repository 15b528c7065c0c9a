// Agent API extension: POST /api/v1/agent/rules, the rules the node's kernel
// holds (contract/wire/kernel-rules.ts). The report replaces the node's
// previous one and is compared, in the same transaction, with what the
// server holds in force for the node: what is missing is sent again and what
// was withdrawn but is still there is removed again (server/sql/kernel-rules.ts),
// both as new commands that the push channel delivers at once.
import Router from '@koa/router';
import type { Context } from 'koa';
import { BODY_LIMITS } from '../../contract/limits.ts';
import { type KernelRulesReply, kernelRulesReport } from '../../contract/wire/kernel-rules.ts';
import type { Deps } from '../app.ts';
import { type AgentState, agentAuth } from '../auth.ts';
import { body, reply } from '../codec.ts';
import { notFound } from '../errors.ts';
import { type Report, reconcile, storeReport } from '../sql/kernel-rules.ts';
import { validate } from '../validate.ts';

export function agentRuleRoutes({ db, log }: Deps): Router {
  const r = new Router({ prefix: '/api/v1/agent' });

  r.post('/rules', agentAuth(db), body(BODY_LIMITS.rules), validate(kernelRulesReport), async (ctx: Context) => {
    const node = (ctx.state as AgentState).node;
    const rep = ctx.state.input as Report;
    const res = await db.withTransaction(async (c) => {
      const stored = await storeReport(c, node.id, rep);
      if (!stored) return null;
      // A partial report, or a program not attached (its rules enforce nothing), proves nothing missing.
      const fixed = rep.truncated || !rep.attached ? { reissued: [], removed: [] } : await reconcile(c, node.id, stored.prev);
      return { stored: stored.stored, ...fixed };
    });
    if (!res) throw notFound('node');
    if (res.reissued.length || res.removed.length)
      log.info('kernel report: commands issued again', { node: node.uuid, reissued: res.reissued, removed: res.removed });
    const out: KernelRulesReply = { ok: true, stored: res.stored, reissued: res.reissued.length, removed: res.removed.length };
    reply(ctx, 200, out);
  });

  return r;
}
