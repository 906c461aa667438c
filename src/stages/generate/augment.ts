import type { GenContext } from "./context.js";
import { claim, contextClause, type Draft } from "./drafts.js";
import type { Rng } from "./rng.js";
import { drawWording, SYSTEM_VARIANTS } from "./wording/templates.js";

/** Interchangeable phrasings; a paraphrase swaps one for another where it occurs. */
const PHRASES: string[][] = [
  ["Can you", "Could you", "Would you", "Please can you"],
  ["please", "kindly"],
  ["I need", "I'd like", "I want"],
  ["Thanks", "Thank you", "Cheers"],
  ["show me", "give me", "tell me"],
  ["find", "look up", "search for"],
  ["What is", "What's", "Tell me"],
];

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Rewords a text with the phrase bank; appends a closing remark when nothing matched. */
export function paraphrase(text: string, rng: Rng): string {
  let out = text;
  let changed = false;
  for (const group of rng.shuffle([...PHRASES])) {
    const present = group.find((p) => new RegExp(`\\b${escapeRe(p)}\\b`, "i").test(out));
    if (!present) continue;
    const others = group.filter((p) => p !== present);
    const next = rng.pick(others);
    out = out.replace(new RegExp(`\\b${escapeRe(present)}\\b`, "i"), (m) =>
      m[0] === m[0]!.toUpperCase() ? next.charAt(0).toUpperCase() + next.slice(1) : next.toLowerCase(),
    );
    changed = true;
    if (rng.bool()) break;
  }
  return changed ? out : `${out} ${rng.pick(["Thanks!", "Thank you.", "Please.", "Cheers."])}`;
}

/**
 * An augmented copy of an LLM-written seed, before rewording: each argument value that appears
 * verbatim in the request is swapped for a new valid value in the request and the call together,
 * and the system prompt variant changes.
 */
export function swapValues(ctx: GenContext, seed: Draft, rng: Rng): Draft {
  let user = seed.user;
  let args = seed.args ? { ...seed.args } : undefined;
  if (seed.tool && args) {
    const gen = ctx.generators.get(seed.tool.name)!;
    const mode = seed.scenario === "edge" ? "edge" : "standard";
    const swapped = { ...args };
    let text = user;
    for (const [key, value] of Object.entries(args)) {
      if (typeof value !== "string" && typeof value !== "number") continue;
      const old = String(value);
      if (old.length === 0 || !text.includes(old)) continue;
      const next = gen.generateAt(rng, `/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`, mode);
      if (!next.found || (typeof next.value !== "string" && typeof next.value !== "number")) continue;
      const pattern =
        typeof value === "number"
          ? new RegExp(`(?<![\\d.])${escapeRe(old)}(?![\\d.])`, "g")
          : new RegExp(escapeRe(old), "g");
      text = text.replace(pattern, () => String(next.value));
      swapped[key] = next.value;
    }
    if (gen.isValid(swapped)) [args, user] = [swapped, text];
  }
  return {
    ...seed,
    user,
    ...(args ? { args } : {}),
    wording: drawWording(rng),
    systemVariant: (seed.systemVariant + 1 + rng.int(0, SYSTEM_VARIANTS - 2)) % SYSTEM_VARIANTS,
  };
}

/** Claims the variant's text; a taken text gets a context clause until it is new. */
export function claimVariant(ctx: GenContext, draft: Draft, rng: Rng): Draft {
  const base = draft.user;
  for (let i = 0; i < 8 && !claim(ctx, draft.user); i++) draft.user = `${base} ${contextClause(rng)}`;
  return draft;
}
