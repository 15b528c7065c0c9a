// What the user API's route files share: the workspace of the request, its
// checked input, the :id parameter, and the body rules of routes that take none.
import type { Context } from 'koa';
import * as S from '../../contract/wire/user.ts';
import type { UserState } from '../auth.ts';
import { body, readRaw } from '../codec.ts';
import { parse, validate } from '../validate.ts';

export const KB = 1024;
export const wsId = (ctx: Context) => (ctx.state as UserState).workspaceId;
export const input = <T>(ctx: Context) => ctx.state.input as T;
export const idOf = (ctx: Context) => parse(S.idParam, ctx.params).id;
export const noBody = async (ctx: Context, next: () => Promise<unknown>) => {
  await readRaw(ctx, 0);
  await next();
};
/** A route that takes no body: nothing, or an empty object. */
export const emptyBody = [body(1 * KB), validate(S.empty)] as const;
