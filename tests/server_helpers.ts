/** Start the real API server (worker/main.ts) in its own process on a free loopback port. */
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

/** Spawn `deno run <flags> worker/main.ts` with `env`; resolves once it listens. */
export async function startServer(
  env: Record<string, string> = {},
  flags: string[] = ["-A"],
  entry = "worker/main.ts",
): Promise<ServerProcess> {
  const child = new Deno.Command(DENO, {
    args: ["run", ...flags, `${ROOT}${entry}`],
    cwd: ROOT,
    env: { PORT: "0", ...env },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let port = 0;
  let text = "";
  const timeout = setTimeout(() => child.kill(), 60_000);
  try {
    while (!port) {
      const { value, done } = await reader.read();
      if (done) throw new Error("the server exited before listening");
      text += value;
      const match = text.match(/http:\/\/[\d.]+:(\d+)/);
      if (match) port = Number(match[1]);
    }
  } finally {
    clearTimeout(timeout);
  }
  // Keep draining stdout so the child never blocks on a full pipe.
  (async () => {
    while (!(await reader.read()).done);
  })().catch(() => {});
  return {
    base: `http://127.0.0.1:${port}`,
    port,
    pid: child.pid,
    alive: () => !exited,
    rss() {
      const line = Deno.readTextFileSync(`/proc/${child.pid}/status`).split("\n").find((l) =>
        l.startsWith("VmRSS:")
      );
      return line ? Number(line.replace(/\D/g, "")) * 1024 : 0;
    },
    async stop() {
      if (!exited) child.kill();
      await status;
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
