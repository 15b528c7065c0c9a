// validate(schema): checks ctx.request.body (or the query) against a zod schema
// and puts the parsed value in ctx.state.input; a failure is a 400 whose
// message names the field ("pps: expected an integer").
import type { Context, Next } from 'koa';
import { z } from 'zod';
import { validationFailed } from './errors.ts';

export function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : 'body'}: ${i.message}`)
    .join('; ');
}

export function parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw validationFailed(describe(r.error));
  return r.data;
}

export function validate<S extends z.ZodType>(schema: S, from: 'body' | 'query' = 'body') {
  return async (ctx: Context, next: Next) => {
    const value = from === 'body' ? (ctx.request as { body?: unknown }).body : ctx.query;
    ctx.state.input = parse(schema, value);
    await next();
  };
}
