/**
 * Firefox (Debian's firefox-esr) with the Firefox build of the extension, driven over Marionette:
 * Firefox's own remote protocol, length-prefixed JSON over TCP. It installs the build as a temporary
 * add-on, opens extension pages (WebDriver BiDi will not navigate to moz-extension:// URLs), runs
 * privileged ("chrome") scripts, and reads the overlay's closed shadow root as a person sees it.
 */
import { existsSync } from "node:fs";
import { buildExtension } from "../extension/build.ts";
import { type OverlayElement, SCREENSHOTS, SITE_HOST } from "./extension_helpers.ts";

/** Debian's Firefox ESR (apt-get install firefox-esr). */
export const FIREFOX = "/usr/bin/firefox-esr";
/** The add-on's id (browser_specific_settings.gecko.id in manifest.json). */
export const ADDON_ID = "mien@mien.invalid";
/** The moz-extension:// host the profile assigns to the add-on (fixed, so that its pages have known URLs). */
export const ADDON_UUID = "5d1c6a57-0d0e-4a3c-9a43-6d2f1c1e3b7a";

/** Whether Firefox is installed. */
export function hasFirefox(): boolean {
  return existsSync(FIREFOX);
}

/** A WebDriver element or shadow-root reference, as Marionette returns and takes it. */
export type WebElement = Record<string, string>;

/** What Marionette answers when a command fails. */
export class MarionetteError extends Error {
  constructor(
    command: string,
    public readonly error: { error: string; message: string; stacktrace?: string },
  ) {
    super(`${command}: ${error.error}: ${error.message}`);
  }
}

/** A Marionette connection: `send(command, params)` resolves with the command's value. */
export class Marionette {
  #conn: Deno.TcpConn;
  #nextId = 0;
  #pending = new Map<
    number,
    { command: string; resolve: (v: unknown) => void; reject: (e: Error) => void }
  >();
  #hello: Promise<unknown>;
  #closed = false;

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
    let helloDone: (v: unknown) => void;
    this.#hello = new Promise((resolve) => helloDone = resolve);
    this.#read(helloDone!);
  }

  /** Connect to Marionette on 127.0.0.1:`port` and wait for its greeting. */
  static async connect(port: number): Promise<Marionette> {
    const client = new Marionette(await Deno.connect({ hostname: "127.0.0.1", port }));
    await client.#hello;
    return client;
  }

  /** Messages are `<byte length>:<JSON>`; answers are [1, id, error, result]. */
  async #read(hello: (v: unknown) => void) {
    let buffer = new Uint8Array(0);
    const chunk = new Uint8Array(65536);
    let greeted = false;
    try {
      for (;;) {
        const n = await this.#conn.read(chunk);
        if (n === null) break;
        const joined = new Uint8Array(buffer.length + n);
        joined.set(buffer);
        joined.set(chunk.subarray(0, n), buffer.length);
        buffer = joined;
        for (;;) {
          const colon = buffer.indexOf(58);
          if (colon < 0) break;
          const length = Number(new TextDecoder().decode(buffer.subarray(0, colon)));
          if (buffer.length < colon + 1 + length) break;
          const message = JSON.parse(
            new TextDecoder().decode(buffer.subarray(colon + 1, colon + 1 + length)),
          );
          buffer = buffer.slice(colon + 1 + length);
          if (!greeted) {
            greeted = true;
            hello(message);
            continue;
          }
          const [, id, error, result] = message as [number, number, MarionetteError["error"] | null, unknown];
          const waiting = this.#pending.get(id);
          this.#pending.delete(id);
          if (!waiting) continue;
          if (error) waiting.reject(new MarionetteError(waiting.command, error));
          else waiting.resolve(result);
        }
      }
    } catch (error) {
      if (!this.#closed) console.warn("marionette connection:", error);
    }
    for (const waiting of this.#pending.values()) waiting.reject(new Error("marionette connection closed"));
    this.#pending.clear();
  }

  /** Run a command; resolves with its result (its `value` when it has only that). */
  send<T = unknown>(command: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.#nextId++;
    const body = new TextEncoder().encode(JSON.stringify([0, id, command, params]));
    const framed = new Uint8Array([...new TextEncoder().encode(`${body.length}:`), ...body]);
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, {
        command,
        resolve: (v) => {
          const value = v && typeof v === "object" && Object.keys(v).length === 1 && "value" in v
            ? (v as { value: unknown }).value
            : v;
          resolve(value as T);
        },
        reject,
      });
      this.#conn.write(framed).catch(reject);
    });
  }

  /**
   * Run `body` (an async function's body: `arguments` are `args`, `return` its value) in the
   * selected tab's page, or with chrome privileges in the browser window when `chrome` is set.
   */
  async script<T = unknown>(
    body: string,
    args: unknown[] = [],
    options: { chrome?: boolean } = {},
  ): Promise<T> {
    await this.send("Marionette:SetContext", { value: options.chrome ? "chrome" : "content" });
    try {
      return await this.send<T>("WebDriver:ExecuteScript", {
        script: `return (async function () { ${body} }).apply(this, arguments);`,
        args,
        sandbox: options.chrome ? null : "mien",
        newSandbox: false,
      });
    } finally {
      await this.send("Marionette:SetContext", { value: "content" });
    }
  }

  /** The first element matching `css` in the selected tab's page (a WebDriver element reference). */
  find(css: string): Promise<WebElement> {
    return this.send<WebElement>("WebDriver:FindElement", { using: "css selector", value: css });
  }

  /** Wait until `body` (as in script()) returns a truthy value in the selected tab; returns it. */
  async waitFor<T>(body: string, args: unknown[] = [], timeoutMs = 30_000): Promise<T> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const value = await this.script<T>(body, args).catch(() => undefined);
      if (value) return value;
      if (performance.now() > deadline) {
        throw new Error(`timed out after ${timeoutMs} ms waiting for: ${body}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Select the tab `handle` (and bring it to the front). */
  async switchTo(handle: string) {
    await this.send("WebDriver:SwitchToWindow", { handle, focus: true });
  }

  /** Save a screenshot of the selected tab under SCREENSHOTS. */
  async screenshot(name: string) {
    const png = await this.send<string>("WebDriver:TakeScreenshot", { full: false, hash: false });
    await Deno.mkdir(SCREENSHOTS, { recursive: true });
    await Deno.writeFile(`${SCREENSHOTS}${name}.png`, Uint8Array.from(atob(png), (c) => c.charCodeAt(0)));
  }

  /** Close the connection. */
  close() {
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
  }
}

/** Prefs for the test profile: no first-run pages or updates, the test host on loopback, autoplay. */
function userPrefs(): string {
  const prefs: Record<string, unknown> = {
    // Marionette on a free port; Firefox writes the port to <profile>/MarionetteActivePort.
    "marionette.port": 0,
    // Every host name resolves to loopback: the test site answers as SITE_HOST, nothing else is reachable.
    "network.dns.forceResolve": "127.0.0.1",
    "network.proxy.type": 0,
    "extensions.webextensions.uuids": JSON.stringify({ [ADDON_ID]: ADDON_UUID }),
    "xpinstall.signatures.required": false,
    "extensions.autoDisableScopes": 0,
    "media.autoplay.default": 0,
    "media.autoplay.blocking_policy": 0,
    "browser.shell.checkDefaultBrowser": false,
    "browser.startup.page": 0,
    "browser.startup.homepage_override.mstone": "ignore",
    "browser.aboutwelcome.enabled": false,
    "datareporting.policy.dataSubmissionEnabled": false,
    "toolkit.telemetry.reportingpolicy.firstRun": false,
    "app.update.disabledForTesting": true,
    "browser.tabs.warnOnClose": false,
  };
  return Object.entries(prefs).map(([k, v]) => `user_pref(${JSON.stringify(k)}, ${JSON.stringify(v)});`).join(
    "\n",
  ) + "\n";
}

/** A launched Firefox, as launchFirefox() returns it. */
export interface LaunchedFirefox {
  marionette: Marionette;
  process: Deno.ChildProcess;
  /** An extension page's URL. */
  page(path: string): string;
  /** An URL of the test site (its port included: the host name alone resolves to loopback). */
  site(path: string): string;
  close(): Promise<void>;
}

/**
 * Headless Firefox with the Firefox build of the extension (built into `dir`/extension first) installed
 * as a temporary add-on, a Marionette session that accepts the test site's self-signed certificate.
 */
export async function launchFirefox(options: { dir: string; port: number }): Promise<LaunchedFirefox> {
  const extension = `${options.dir}/extension/`;
  await buildExtension(extension, "firefox");
  const profile = `${options.dir}/firefox-profile`;
  await Deno.mkdir(profile, { recursive: true });
  await Deno.writeTextFile(`${profile}/user.js`, userPrefs());
  const process = new Deno.Command(FIREFOX, {
    args: ["--headless", "--marionette", "--remote-allow-system-access", "--no-remote", "--profile", profile],
    env: { MOZ_HEADLESS_WIDTH: "1000", MOZ_HEADLESS_HEIGHT: "700" },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const log: string[] = [];
  (async () => {
    for await (const chunk of process.stderr.pipeThrough(new TextDecoderStream())) log.push(chunk);
  })().catch(() => {});
  let marionette: Marionette | undefined;
  try {
    const portFile = `${profile}/MarionetteActivePort`;
    const deadline = performance.now() + 60_000;
    while (!existsSync(portFile) || !(await Deno.readTextFile(portFile)).trim()) {
      if (performance.now() > deadline) throw new Error(`Firefox did not start Marionette: ${log.join("")}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    marionette = await Marionette.connect(Number((await Deno.readTextFile(portFile)).trim()));
    // Marionette takes the capabilities themselves (geckodriver merges alwaysMatch/firstMatch).
    await marionette.send("WebDriver:NewSession", { acceptInsecureCerts: true });
    await marionette.send("Addon:Install", { path: extension, temporary: true });
  } catch (error) {
    marionette?.close();
    process.kill();
    await process.status;
    throw error;
  }
  const client = marionette;
  return {
    marionette: client,
    process,
    page: (path) => `moz-extension://${ADDON_UUID}/${path}`,
    site: (path) => `https://${SITE_HOST}:${options.port}${path}`,
    async close() {
      await client.send("WebDriver:DeleteSession").catch(() => {});
      await client.send("Marionette:Quit", { flags: ["eForceQuit"] }).catch(() => {});
      client.close();
      const timer = setTimeout(() => process.kill("SIGKILL"), 10_000);
      await process.status;
      clearTimeout(timer);
    },
  };
}

/**
 * Elements matching `selector` in the overlay's closed shadow root in the selected tab: Marionette
 * hands out closed shadow roots (the page's own scripts cannot reach them), and a script given that
 * root reads each element's viewport rect, text and the frame time it shows.
 */
export async function overlayElements(m: Marionette, selector = ".box"): Promise<OverlayElement[]> {
  let host: WebElement;
  try {
    host = await m.find("mien-overlay");
  } catch (error) {
    if (error instanceof MarionetteError && error.error.error === "no such element") return [];
    throw error;
  }
  const root = await m.send<WebElement>("WebDriver:GetShadowRoot", { id: Object.values(host)[0] });
  return m.script<OverlayElement[]>(
    `return [...arguments[0].querySelectorAll(arguments[1])].map((el) => {
      const r = el.getBoundingClientRect();
      const box = el.closest(".box");
      return { x: r.x, y: r.y, width: r.width, height: r.height, label: el.textContent,
        mediaTime: Number(box?.dataset.mediaTime ?? NaN) };
    });`,
    [root, selector],
  );
}
