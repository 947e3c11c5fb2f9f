/// <reference lib="dom" />
/** Options: local or Edge API mode, the API's URL and key, fallback, frame rate, site access. */
import { browser } from "./browser.ts";
import { loadSettings, saveSettings, type Settings } from "./settings.ts";
import { $ } from "./ui.ts";

const form = $<HTMLFormElement>("form");
const saved = $("saved");
const field = (name: string) => form.elements.namedItem(name) as HTMLInputElement;
const current = await loadSettings();

(form.elements.namedItem("mode") as RadioNodeList).value = current.mode;
field("apiUrl").value = current.apiUrl;
field("apiKey").value = current.apiKey;
field("fallback").checked = current.fallback;
field("fps").value = String(current.fps);

function showRemote() {
  $("remote").hidden = (form.elements.namedItem("mode") as RadioNodeList).value !== "remote";
}
form.addEventListener("change", showRemote);
showRemote();

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const settings: Settings = {
    mode: (form.elements.namedItem("mode") as RadioNodeList).value === "remote" ? "remote" : "local",
    apiUrl: field("apiUrl").value.trim(),
    apiKey: field("apiKey").value.trim(),
    fallback: field("fallback").checked,
    fps: Number(field("fps").value),
  };
  const problem = await saveSettings(settings);
  saved.textContent = problem ?? "Saved.";
  saved.className = problem ? "problem" : "";
});

$("allSites").addEventListener("click", async () => {
  const granted = await browser.permissions.request({ origins: ["<all_urls>"] });
  $("sites").textContent = granted ? "Mien may now run on any site you turn it on for." : "Not granted.";
});
