/**
 * `browser.*` through webextension-polyfill (promises in Chrome, native in Firefox), typed for the
 * parts Mien uses (the polyfill ships no types).
 */
import polyfill from "webextension-polyfill";
import type { WebAssets } from "../shared/web_analyzer.ts";

interface Event<F> {
  addListener(listener: F): void;
  removeListener(listener: F): void;
}

/** The sender of a runtime message. */
export interface MessageSender {
  id?: string;
  tab?: { id?: number };
  frameId?: number;
  url?: string;
}

/** A tab, as far as Mien looks at it. */
export interface Tab {
  id?: number;
  index: number;
  url?: string;
}

/** What a context-menu click reports. */
export interface MenuClick {
  menuItemId: string | number;
  srcUrl?: string;
  pageUrl?: string;
}

interface Browser {
  runtime: {
    id: string;
    getURL(path: string): string;
    sendMessage<T = unknown>(message: unknown): Promise<T>;
    onMessage: Event<(message: unknown, sender: MessageSender) => Promise<unknown> | undefined>;
    onInstalled: Event<() => void>;
    openOptionsPage(): Promise<void>;
  };
  storage: {
    local: {
      get(keys: string | string[] | null): Promise<Record<string, unknown>>;
      set(items: Record<string, unknown>): Promise<void>;
    };
    session: {
      get(keys: string | string[] | null): Promise<Record<string, unknown>>;
      set(items: Record<string, unknown>): Promise<void>;
      remove(keys: string | string[]): Promise<void>;
    };
    onChanged: Event<(changes: Record<string, { newValue?: unknown }>, area: string) => void>;
  };
  tabs: {
    query(query: { active?: boolean; currentWindow?: boolean; url?: string }): Promise<Tab[]>;
    create(props: { url: string; index?: number; openerTabId?: number }): Promise<Tab>;
    sendMessage<T = unknown>(tabId: number, message: unknown): Promise<T>;
    onRemoved: Event<(tabId: number) => void>;
    onUpdated: Event<(tabId: number, change: { status?: string }) => void>;
  };
  scripting: {
    executeScript(options: { target: { tabId: number }; files: string[] }): Promise<unknown>;
  };
  contextMenus: {
    create(props: { id: string; title: string; contexts: string[] }): void;
    removeAll(): Promise<void>;
    onClicked: Event<(info: MenuClick, tab?: Tab) => void>;
  };
  permissions: {
    request(permissions: { origins: string[] }): Promise<boolean>;
    contains(permissions: { origins: string[] }): Promise<boolean>;
  };
}

/** The extension APIs (see the interface above for what is typed). */
export const browser = polyfill as Browser;

/** Chrome's tabCapture (no promise wrapper in the polyfill; absent outside Chrome). */
export const tabCapture = (globalThis as unknown as {
  chrome?: { tabCapture?: { getMediaStreamId(options: { targetTabId: number }): Promise<string> } };
}).chrome?.tabCapture;

/** Where the bundled wasm, expression model and BlazeFace files are (extension pages and workers load them). */
export function bundledAssets(): WebAssets {
  return {
    wasm: browser.runtime.getURL("wasm/"),
    model: browser.runtime.getURL("models/mien-fer/"),
    blazeface: browser.runtime.getURL("models/blazeface/"),
  };
}
