// Administration without HTTP: what the CLI's admin commands and tests use to
// create a workspace, a node and a token directly in the database.
import { newPolicy } from '../contract/wire/policy.ts';
import { newNode } from '../contract/wire/user.ts';
import type { Db } from './db.ts';
import * as nodes from './sql/nodes.ts';
import * as policies from './sql/policies.ts';
import * as ws from './sql/workspaces.ts';

export interface Admin {
  /** A workspace and a first user token (shown once). */
  createWorkspace(
    name: string,
    opts?: { defaultPpsThreshold?: number },
  ): Promise<{ id: number; uuid: string; name: string; token: string }>;
  /** A node of the workspace (id or uuid); its API key is shown once. */
  createNode(
    workspace: number | string,
    name: string,
    opts?: { ip?: string; ppsThreshold?: number },
  ): Promise<{ id: number; uuid: string; key: string }>;
  /** Another user token of the workspace (id or uuid). */
  createToken(workspace: number | string, name?: string): Promise<{ id: number; token: string }>;
  /** A response policy of the workspace from its JSON (contract/wire/policy.ts newPolicy), checked as the user API checks it. */
  createPolicy(workspace: number | string, body: unknown): Promise<object>;
  listPolicies(workspace: number | string): Promise<object[]>;
  /** The kill switch of a node of the workspace (by id), or of the whole workspace. */
  setKillSwitch(
    workspace: number | string,
    on: boolean,
    node?: number,
  ): Promise<{ workspace: number; node?: number; kill_switch: boolean }>;
}

export function admin(db: Db): Admin {
  const find = async (w: number | string) => {
    const found = await ws.findWorkspace(db, String(w));
    if (!found) throw new Error(`no workspace ${w}`);
    return found;
  };
  return {
    async createWorkspace(name, opts = {}) {
      return db.withTransaction(async (c) => {
        const w = await ws.createWorkspace(c, name, opts.defaultPpsThreshold);
        const t = await ws.createToken(c, w.id, 'initial');
        return { id: w.id, uuid: w.uuid, name: w.name, token: t.token };
      });
    },
    async createNode(workspace, name, opts = {}) {
      // The user API's checks (contract/wire/user.ts): an address the safety check can read, a sane name.
      const r = newNode.safeParse({
        name,
        ...(opts.ip !== undefined ? { ip: opts.ip } : {}),
        ...(opts.ppsThreshold !== undefined ? { pps_threshold: opts.ppsThreshold } : {}),
      });
      if (!r.success) throw new Error(r.error.issues.map((i) => `${i.path.join('.') || 'node'}: ${i.message}`).join('; '));
      const w = await find(workspace);
      return db.withTransaction((c) => nodes.createNode(c, w.id, r.data));
    },
    async createToken(workspace, name = '') {
      const w = await find(workspace);
      return ws.createToken(db, w.id, name);
    },
    async createPolicy(workspace, body) {
      const r = newPolicy.safeParse(body);
      if (!r.success) throw new Error(r.error.issues.map((i) => `${i.path.join('.') || 'policy'}: ${i.message}`).join('; '));
      const w = await find(workspace);
      const { workspace_id: _, ...p } = await policies.createPolicy(db, w.id, r.data);
      return p;
    },
    async listPolicies(workspace) {
      const w = await find(workspace);
      return (await policies.listPolicies(db, w.id)).map(({ workspace_id: _, ...p }) => p);
    },
    async setKillSwitch(workspace, on, node) {
      const w = await find(workspace);
      if (node === undefined) {
        await ws.setWorkspaceKillSwitch(db, w.id, on);
        return { workspace: w.id, kill_switch: on };
      }
      if (!(await nodes.setKillSwitch(db, w.id, node, on))) throw new Error(`no node ${node} in workspace ${workspace}`);
      return { workspace: w.id, node, kill_switch: on };
    },
  };
}
