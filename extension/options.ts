/// <reference lib="dom" />
/** Options: local or Edge API mode, the API's URL and key, fallback, frame rate, site access. */
import { browser } from "./browser.ts";
import { checkRemote } from "./remote.ts";
import { checkSettings, loadSettings, saveSettings, type Settings } from "./settings.ts";
import { $ } from "./ui.ts";

const form = $<HTMLFormElement>("form");
const saved = $("saved");
const field = (name: string) => form.elements.namedItem(name) as HTMLInputElement;
const current = await loadSettings();

(form.elements.namedItem("mode") as RadioNodeList).value = current.mode;
field("apiUrl").value = current.apiUrl;
field("apiKey").value = current.apiKey;
field("fallback").checked = current.fallback;
field("budget").value = String(current.budget);

function showRemote() {
  $("remote").hidden = (form.elements.namedItem("mode") as RadioNodeList).value !== "remote";
}
form.addEventListener("change", showRemote);
showRemote();

/** The settings as the form holds them now. */
function formSettings(): Settings {
  return {
    mode: (form.elements.namedItem("mode") as RadioNodeList).value === "remote" ? "remote" : "local",
    apiUrl: field("apiUrl").value.trim(),
    apiKey: field("apiKey").value.trim(),
    fallback: field("fallback").checked,
    budget: Number(field("budget").value),
  };
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const problem = await saveSettings(formSettings());
  showProblem(problem);
  if (!problem) saved.textContent = "Saved.";
});
/** Show why the form's values cannot be saved, or nothing. */
function showProblem(problem: string | null) {
  saved.textContent = problem ?? "";
  saved.className = problem ? "problem" : "";
}
// "Saved." goes as soon as a value changes (what is shown is no longer what was saved), an error as soon as
// the value is fixed; a finished edit (change) that is invalid says why at once. A connection test result
// goes when the URL or key changes.
form.addEventListener("input", (event) => {
  if (["apiUrl", "apiKey"].includes((event.target as HTMLInputElement).name)) {
    $("tested").textContent = "";
  }
  if (saved.className !== "problem" || !checkSettings(formSettings())) showProblem(null);
});
form.addEventListener("change", () => showProblem(checkSettings(formSettings())));

const tested = $("tested");
$("test").addEventListener("click", async () => {
  const settings = { ...formSettings(), mode: "remote" as const };
  const problem = checkSettings(settings);
  tested.className = "problem";
  if (problem) {
    tested.textContent = problem;
    return;
  }
  tested.className = "";
  tested.textContent = "Testing…";
  try {
    tested.textContent = `Connected: ${await checkRemote(settings.apiUrl, settings.apiKey)}.`;
  } catch (error) {
    tested.textContent = (error as Error).message;
    tested.className = "problem";
  }
});

$("allSites").addEventListener("click", async () => {
  const granted = await browser.permissions.request({ origins: ["<all_urls>"] });
  $("sites").textContent = granted ? "Mien may now run on any site you turn it on for." : "Not granted.";
});
