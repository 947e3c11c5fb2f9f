/**
 * Service worker: the "Analyse facial expression" image menu, and turning tabs on and off (which
 * tabs are on is kept in storage.session: memory only, and it survives this worker being stopped).
 */
import { browser, type MenuClick, type Tab } from "./browser.ts";
import { fromExtensionPage, parseRuntimeMessage, type RuntimeMessage } from "./messages.ts";
import { keptSessionKey } from "./session.ts";

const MENU_ID = "mien-analyze";

async function onTabs(): Promise<number[]> {
  return ((await browser.storage.session.get("onTabs")).onTabs as number[] | undefined) ?? [];
}

/**
 * One-use tokens: the content script of a tab that is on asks for one when it starts (each page
 * load), hands it to its analyzer frame, and the frame spends it to claim the tab.
 */
async function tokens(): Promise<Record<string, string>> {
  return ((await browser.storage.session.get("tokens")).tokens as Record<string, string> | undefined) ?? {};
}

async function setToken(tabId: number, token: string | null) {
  const all = await tokens();
  if (token) all[tabId] = token;
  else delete all[tabId];
  await browser.storage.session.set({ tokens: all });
}

/** A fresh token for a tab that is on (null when it is off). */
async function issueToken(tabId: number): Promise<string | null> {
  if (!(await onTabs()).includes(tabId)) return null;
  const token = crypto.randomUUID();
  await setToken(tabId, token);
  return token;
}

/** The tab id when `token` is that tab's current token, which is then spent; else -1. */
async function spendToken(tabId: number, token: string): Promise<number> {
  if (tabId < 0 || (await tokens())[tabId] !== token) return -1;
  await setToken(tabId, null);
  return tabId;
}

async function setOn(tabId: number, on: boolean) {
  const tabs = (await onTabs()).filter((t) => t !== tabId);
  await browser.storage.session.set({ onTabs: on ? [...tabs, tabId] : tabs });
  if (!on) await setToken(tabId, null);
}

/** Turn the overlay on or off in a tab; returns whether it is on, or why it could not start. */
export async function toggle(tabId: number, on: boolean): Promise<{ on: boolean; error?: string }> {
  if (!on) {
    await setOn(tabId, false);
    await browser.tabs.sendMessage(tabId, { type: "mien:stop" }).catch(() => {});
    return { on: false };
  }
  await setOn(tabId, true);
  try {
    await browser.scripting.executeScript({ target: { tabId }, files: ["content.js"] });
  } catch (error) {
    await setOn(tabId, false);
    return {
      on: false,
      error: `Mien cannot run on this page (${(error as Error).message}). ` +
        "Open the popup from the toolbar on the tab, or allow Mien on all sites in the options.",
    };
  }
  return { on: true };
}

/**
 * The kept copy of a tab's session (see frame.ts), for that tab's analyzer frame: read, replaced or removed
 * here, as Firefox gives extension frames inside web pages no storage.session.
 */
async function keptSession(
  tabId: number,
  { op, session }: Extract<RuntimeMessage, { type: "mien:kept-session" }>,
): Promise<unknown> {
  if (tabId < 0) return null;
  const key = keptSessionKey(tabId);
  if (op === "get") return (await browser.storage.session.get(key))[key] ?? null;
  if (op === "set") await browser.storage.session.set({ [key]: session });
  else await browser.storage.session.remove(key);
  return true;
}

/** The menu's handler: open the result page for the clicked image (the page fetches it itself). */
export async function analyzeImage(info: MenuClick, tab?: Tab): Promise<Tab | undefined> {
  if (info.menuItemId !== MENU_ID || !info.srcUrl) return undefined;
  return await browser.tabs.create({
    url: `${browser.runtime.getURL("analyze.html")}?src=${encodeURIComponent(info.srcUrl)}`,
    index: tab ? tab.index + 1 : undefined,
    openerTabId: tab?.id,
  });
}

browser.runtime.onInstalled.addListener(async () => {
  await browser.contextMenus.removeAll();
  browser.contextMenus.create({ id: MENU_ID, title: "Analyse facial expression", contexts: ["image"] });
});
browser.contextMenus.onClicked.addListener(analyzeImage);

browser.runtime.onMessage.addListener((raw, sender) => {
  const message = parseRuntimeMessage(raw);
  if (!message || sender.id !== browser.runtime.id) return undefined;
  const tab = sender.tab?.id ?? -1;
  const page = fromExtensionPage(sender, browser.runtime.id);
  const analyzer = page && /\/frame\.html$/.test(new URL(sender.url!).pathname);
  // The content script of a tab's top frame asks for the token; the tab's analyzer frame spends it.
  if (message.type === "mien:token" && !page && sender.frameId === 0) return issueToken(tab);
  if (message.type === "mien:check" && analyzer) return spendToken(tab, message.token);
  if (message.type === "mien:kept-session" && analyzer) return keptSession(tab, message);
  if (!page) return undefined;
  if (message.type === "mien:toggle") return toggle(message.tabId, message.on);
  if (message.type === "mien:state") return onTabs().then((tabs) => tabs.includes(message.tabId));
  return undefined;
});

browser.tabs.onRemoved.addListener((tabId) => {
  setOn(tabId, false);
  // A closed tab's kept session goes with it.
  browser.storage.session.remove(keptSessionKey(tabId)).catch(() => {});
});
// A page load removes the overlay with the old document: turn it on again in the new one.
browser.tabs.onUpdated.addListener(async (tabId, change) => {
  if (change.status !== "complete" || !(await onTabs()).includes(tabId)) return;
  await toggle(tabId, true);
});

// The menu handler, reachable from DevTools (and the extension tests) without a real right click.
Object.assign(globalThis, { mien: { analyzeImage, toggle } });
