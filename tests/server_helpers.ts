/** Start the real API server (worker/main.ts) in its own process on a free loopback port. */
import { processMemory } from "../bench/stats.ts";
import { DENO, ROOT } from "./helpers.ts";

/** A running server process. */
export interface ServerProcess {
  base: string;
  port: number;
  pid: number;
  /** Whether the process is still running. */
  alive(): boolean;
  /** Resident set size of the process in bytes (VmRSS). */
  rss(): number;
  /** Stop the process and wait for it. */
  stop(): Promise<void>;
}

/** What a deployment allows the worker: network, environment, reading the repository; no write, run or ffi. */
export const DEPLOY_PERMISSIONS = ["--allow-net", "--allow-env", `--allow-read=${ROOT}`];

/**
 * Spawn the API on a free loopback port with `env`; resolves once it listens. By default
 * `deno run <DEPLOY_PERMISSIONS> worker/main.ts`; `command` replaces `run <flags> <entry>` (e.g. a
 * `deno serve` command line).
 */
export async function startServer(
  env: Record<string, string> = {},
  command: string[] = ["run", ...DEPLOY_PERMISSIONS, `${ROOT}worker/main.ts`],
): Promise<ServerProcess> {
  const child = new Deno.Command(DENO, {
    args: command,
    cwd: ROOT,
    env: { PORT: "0", ...env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  // The listen line comes on stdout (worker/main.ts) or stderr (deno serve); both are drained to the
  // end so the child never blocks on a full pipe, and stderr is passed on.
  let text = "";
  let listening: (port: number) => void;
  const port = new Promise<number>((resolve) => listening = resolve);
  const drain = async (stream: ReadableStream<Uint8Array>, echo: boolean) => {
    const decoder = new TextDecoder();
    for await (const bytes of stream) {
      const chunk = decoder.decode(bytes, { stream: true });
      if (echo) Deno.stderr.writeSync(new TextEncoder().encode(chunk));
      text += chunk;
      const match = text.match(/http:\/\/[\d.]+:(\d+)/);
      if (match) listening(Number(match[1]));
    }
  };
  drain(child.stdout, false).catch(() => {});
  drain(child.stderr, true).catch(() => {});
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("the server did not listen within 60 s")), 60_000);
  });
  const died = status.then((): never => {
    throw new Error(`the server exited before listening:\n${text}`);
  });
  let bound: number;
  try {
    bound = await Promise.race([port, timeout, died]);
  } catch (error) {
    child.kill();
    throw error;
  } finally {
    clearTimeout(timer);
    died.catch(() => {}); // the server's later exit is not an error
  }
  return {
    base: `http://127.0.0.1:${bound}`,
    port: bound,
    pid: child.pid,
    alive: () => !exited,
    rss: () => processMemory(child.pid).rss,
    async stop() {
      if (exited) return;
      child.kill();
      // deno serve drains open connections on SIGTERM; give it a moment, then end it.
      const grace = setTimeout(() => !exited && child.kill("SIGKILL"), 3000);
      await status;
      clearTimeout(grace);
    },
  };
}

/** Send raw bytes over a fresh TCP connection and return what the server answers (until it closes or `waitMs`). */
export async function rawExchange(port: number, request: Uint8Array, waitMs: number, closeAfterSend = false) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(request);
  if (closeAfterSend) {
    conn.close();
    return "";
  }
  const chunks: Uint8Array[] = [];
  const deadline = setTimeout(() => conn.close(), waitMs);
  try {
    const buf = new Uint8Array(4096);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      chunks.push(buf.slice(0, n));
      if (new TextDecoder().decode(chunks.at(-1)).includes("}}")) break;
    }
  } catch {
    // closed by the deadline
  } finally {
    clearTimeout(deadline);
    try {
      conn.close();
    } catch {
      // already closed
    }
  }
  return new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c])));
}
