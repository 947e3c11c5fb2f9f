import { LABELS } from "../shared/labels.ts";

/** Why the Edge API could not classify: what the popup tells the user. */
export class RemoteError extends Error {
  constructor(readonly kind: "unreachable" | "unauthorized" | "refused", message: string) {
    super(message);
  }
}

/** Send face crops (PNG blobs) to `${apiUrl}/v1/classify`; probabilities per crop in LABELS order. */
export async function classifyRemote(
  apiUrl: string,
  apiKey: string,
  crops: Blob[],
  timeoutMs = 5000,
): Promise<number[][]> {
  const body = new FormData();
  crops.forEach((crop, i) => body.append("face", crop, `face${i}.png`));
  const url = `${apiUrl.replace(/\/+$/, "")}/v1/classify`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: "POST",
      body,
      headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch {
    throw new RemoteError(
      "unreachable",
      `Edge API at ${apiUrl} is unreachable: check its address in the options and that it is running`,
    );
  }
  if (res.status === 401) {
    throw new RemoteError("unauthorized", "Edge API refused the API key (401): check it in the options");
  }
  const json = await res.json().catch(() => null);
  if (!res.ok) {
    const detail = json?.error?.message ?? res.statusText;
    throw new RemoteError("refused", `Edge API answered ${res.status}: ${detail}`);
  }
  const results = json?.results;
  if (!Array.isArray(results) || results.length !== crops.length) {
    throw new RemoteError("refused", "Edge API sent an unexpected answer (no results per face)");
  }
  return results.map((r: { scores: Record<string, number> }) => LABELS.map((label) => r.scores[label]));
}

/** Check an Edge API and key: the model it serves (GET /v1/model), or a RemoteError saying what is wrong. */
export async function checkRemote(apiUrl: string, apiKey: string, timeoutMs = 5000): Promise<string> {
  let res: Response;
  try {
    res = await fetch(`${apiUrl.replace(/\/+$/, "")}/v1/model`, {
      headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch {
    throw new RemoteError(
      "unreachable",
      `Nothing answered at ${apiUrl}: check the address and that the API is running`,
    );
  }
  if (res.status === 401) {
    throw new RemoteError("unauthorized", "The API refused this key: check the API key");
  }
  const json = await res.json().catch(() => null);
  if (!res.ok || !json?.id) {
    throw new RemoteError("refused", `${apiUrl} answered ${res.status}, but not as a Mien Edge API`);
  }
  return String(json.id);
}
