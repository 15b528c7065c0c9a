// validate(schema): checks ctx.request.body (or the query string, or the path
// parameters) against a contract schema (zod) and puts the parsed value in
// ctx.state.input; a failure is a 400 whose message names the field
// ("pps: expected an integer"). Query values are held to the contract's
// shape first (no NUL, no lone surrogates), like bodies are when decoded.
import type { Context, Next } from 'koa';
import type { z } from 'zod';
import { checkShape } from '../contract/wire/json.ts';
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
    let value: unknown = (ctx.request as { body?: unknown }).body;
    if (from === 'query') {
      value = { ...ctx.query };
      const problem = checkShape(value);
      if (problem) throw validationFailed(`${problem.path || 'query'}: ${problem.message}`);
    }
    ctx.state.input = parse(schema, value);
    await next();
  };
}
