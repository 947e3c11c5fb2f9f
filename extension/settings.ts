import { browser } from "./browser.ts";

/** The user's choices (options page), kept in storage.local on this device only. */
export interface Settings {
  /** "local": tfjs wasm in the extension; "remote": face crops go to an Edge API. */
  mode: "local" | "remote";
  /** Base URL of the Edge API (its /v1/classify is called). */
  apiUrl: string;
  /** Bearer key for the Edge API (empty when it has none). */
  apiKey: string;
  /** Classify on this device when the Edge API fails. */
  fallback: boolean;
  /** Frames analysed per second for a whole tab, shared by its videos (each at most 30). */
  budget: number;
}

/** Settings before the user changes anything: everything stays on the device. */
export const DEFAULT_SETTINGS: Settings = {
  mode: "local",
  apiUrl: "http://127.0.0.1:8787",
  apiKey: "",
  fallback: true,
  budget: 60,
};

/** The stored settings over the defaults. */
export async function loadSettings(): Promise<Settings> {
  const stored = (await browser.storage.local.get("settings")).settings as Partial<Settings> | undefined;
  return { ...DEFAULT_SETTINGS, ...stored };
}

/** Store settings after checking them; returns the error message, or null when saved. */
export async function saveSettings(settings: Settings): Promise<string | null> {
  const problem = checkSettings(settings);
  if (problem) return problem;
  await browser.storage.local.set({ settings });
  return null;
}

/** Why settings cannot be used, or null. */
export function checkSettings(s: Settings): string | null {
  if (!(s.budget >= 5 && s.budget <= 120)) return "Frames per second for a tab must be between 5 and 120.";
  if (s.mode === "remote") {
    let url: URL | null = null;
    try {
      url = new URL(s.apiUrl);
    } catch {
      // reported below
    }
    const secure = url?.protocol === "https:" || (url?.protocol === "http:" && isLoopback(url.hostname));
    if (!secure) return `The Edge API URL must use ${ALLOWED_URLS}.`;
  }
  return null;
}

/** The Edge API URLs allowed, in words. */
const ALLOWED_URLS = "https, or a loopback address (http://localhost or http://127.0.0.1)";

/** Whether a host name is this computer (localhost, 127.0.0.0/8, [::1]). */
export function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127(\.\d{1,3}){3}$/.test(hostname);
}

/** Call `listener` with the new settings whenever they change. */
export function onSettingsChanged(listener: (settings: Settings) => void) {
  browser.storage.onChanged.addListener((changes, area) => {
    if (area === "local" && changes.settings) {
      listener({ ...DEFAULT_SETTINGS, ...(changes.settings.newValue as Partial<Settings>) });
    }
  });
}
