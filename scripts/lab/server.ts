// The lab's control plane: startServer in this process, on 127.0.0.1, with
// the embedded database in a directory the lab owns. stop() and restart()
// keep the port and the database, so an agent sees an outage (connection
// refused) and then the same server again.
import { type Logger, type RunningServer, silentLogger, startServer } from '../../server/index.ts';

export interface LabServerOptions {
  /** 0: any free port (kept by restart()). */
  port: number;
  dataDir: string;
  /** Maintenance period (rollups, baselines), s; 0: never. */
  maintenanceSeconds?: number;
  log?: Logger;
}

export class LabServer {
  private constructor(
    private running: RunningServer | undefined,
    private readonly o: LabServerOptions,
  ) {}

  static async start(o: LabServerOptions): Promise<LabServer> {
    const s = new LabServer(undefined, { ...o });
    await s.listen();
    return s;
  }

  /** http://127.0.0.1:PORT, the same across restarts. */
  get url(): string {
    return `http://127.0.0.1:${this.o.port}`;
  }

  get port(): number {
    return this.o.port;
  }

  /** The running server's admin (workspaces, nodes, tokens). */
  get admin(): RunningServer['admin'] {
    if (!this.running) throw new Error('the lab server is stopped');
    return this.running.admin;
  }

  /** Starts the server again (stopping it first if it runs) on the same port and database. */
  async restart(): Promise<void> {
    await this.stop();
    await this.listen();
  }

  /** Stops HTTP and closes the database; restart() brings it back. */
  async stop(): Promise<void> {
    const s = this.running;
    this.running = undefined;
    await s?.close();
  }

  private async listen(): Promise<void> {
    this.running = await startServer({
      port: this.o.port,
      host: '127.0.0.1',
      dataDir: this.o.dataDir,
      log: this.o.log ?? silentLogger,
      maintenanceIntervalSeconds: this.o.maintenanceSeconds ?? 0,
    });
    this.o.port = this.running.port;
  }
}

/** One user API call with a workspace token; JSON in and out. */
export async function userApi(
  baseUrl: string,
  token: string,
  method: string,
  p: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${baseUrl}/api/v1${p}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}
