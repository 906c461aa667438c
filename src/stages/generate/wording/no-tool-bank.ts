import type { McpTool } from "../../../core/toolset.js";
import type { Rng } from "../rng.js";
import { withFaker } from "../values/schema-args.js";

/** A question no tool answers, with its direct answer. */
export interface DirectQA {
  question: string;
  answer: string;
}

/** Training phrasings and held-out ones (never used for training), so the eval split asks in new ways. */
type Forms = { train: string[]; eval: string[] };

interface Family {
  /** Tools whose name or description matches this would answer the question, so the family is skipped. */
  conflicts: RegExp;
  make(rng: Rng, split: "train" | "eval"): DirectQA;
}

const fill = (form: string, values: Record<string, string | number>) =>
  form.replace(/\{(\w+)\}/g, (_, k: string) => String(values[k]));
const ask = (rng: Rng, forms: Forms, split: "train" | "eval", values: Record<string, string | number>) =>
  fill(rng.pick(forms[split]), values);
/** A table's rows, every fourth held out for the eval split. */
const rowsFor = <T>(rows: T[], split: "train" | "eval") => rows.filter((_, i) => (i % 4 === 3) === (split === "eval"));

const SMALL_TALK: Array<[string, string]> = [
  ["Hi there!", "Hello! How can I help you today?"],
  ["Good morning, how are you?", "Good morning! I'm doing well, thanks. What can I do for you?"],
  ["That's everything for now, thank you.", "You're welcome! Let me know if you need anything else."],
  ["hey", "Hey! What can I do for you?"],
  [
    "What can you do?",
    "I can answer questions directly and use the tools I'm connected to when a request needs them. What would you like to do?",
  ],
  ["Who are you?", "I'm an assistant that can answer questions and call tools on your behalf."],
  ["Tell me a joke.", "Why did the developer go broke? Because they used up all their cache."],
  ["Good night!", "Good night! Sleep well."],
  ["Goodbye!", "Goodbye! Have a great day."],
  ["ok thanks a lot", "You're welcome!"],
  ["How's it going?", "All good here, thanks! What can I help you with?"],
  ["Are you a robot?", "I'm an AI assistant, so yes, in a way. How can I help?"],
];

const FACTS: Array<[string, string]> = [
  ["How many days are in a week?", "There are 7 days in a week."],
  ["What color do you get by mixing blue and yellow?", "Mixing blue and yellow gives green."],
  [
    "Is a tomato a fruit?",
    "Botanically, yes: a tomato is a fruit, though it is usually cooked and eaten as a vegetable.",
  ],
  ["What's the opposite of hot?", "The opposite of hot is cold."],
  ["How many legs does a spider have?", "A spider has eight legs."],
  ["What is the largest planet in our solar system?", "Jupiter is the largest planet in our solar system."],
  ["At what temperature does water boil?", "Water boils at 100 °C (212 °F) at sea level."],
  ["How many continents are there?", "There are seven continents."],
  ["Who wrote Romeo and Juliet?", "William Shakespeare wrote Romeo and Juliet."],
  ["What's the chemical symbol for gold?", "The chemical symbol for gold is Au."],
  ["How many weeks are in a year?", "There are 52 weeks in a year."],
  ["What is the freezing point of water in Fahrenheit?", "Water freezes at 32 °F."],
  ["Which ocean is the largest?", "The Pacific Ocean is the largest."],
  ["How many sides does a hexagon have?", "A hexagon has six sides."],
  ["What gas do plants take in from the air?", "Plants take in carbon dioxide from the air."],
  ["How many hours are in a day?", "There are 24 hours in a day."],
];

const CAPITALS: Array<[string, string]> = [
  ["France", "Paris"],
  ["Japan", "Tokyo"],
  ["Canada", "Ottawa"],
  ["Chile", "Santiago"],
  ["Brazil", "Brasília"],
  ["Italy", "Rome"],
  ["Spain", "Madrid"],
  ["Germany", "Berlin"],
  ["Egypt", "Cairo"],
  ["Kenya", "Nairobi"],
  ["Norway", "Oslo"],
  ["Austria", "Vienna"],
  ["Mexico", "Mexico City"],
  ["India", "New Delhi"],
  ["Argentina", "Buenos Aires"],
  ["Turkey", "Ankara"],
  ["Poland", "Warsaw"],
  ["Ireland", "Dublin"],
  ["Greece", "Athens"],
  ["Sweden", "Stockholm"],
];

const SYNONYMS: Array<[string, string]> = [
  ["happy", "cheerful"],
  ["big", "large"],
  ["fast", "quick"],
  ["tired", "weary"],
  ["smart", "clever"],
  ["angry", "furious"],
  ["begin", "start"],
  ["difficult", "hard"],
  ["small", "tiny"],
  ["funny", "amusing"],
  ["rich", "wealthy"],
  ["brave", "courageous"],
];

const PHRASES: Array<[string, Record<string, string>]> = [
  ["thank you", { French: "merci", Spanish: "gracias", German: "danke", Italian: "grazie" }],
  ["good morning", { French: "bonjour", Spanish: "buenos días", German: "guten Morgen", Italian: "buongiorno" }],
  ["goodbye", { French: "au revoir", Spanish: "adiós", German: "auf Wiedersehen", Italian: "arrivederci" }],
  ["please", { French: "s'il vous plaît", Spanish: "por favor", German: "bitte", Italian: "per favore" }],
  ["hello", { French: "bonjour", Spanish: "hola", German: "hallo", Italian: "ciao" }],
  ["cheers", { French: "santé", Spanish: "salud", German: "prost", Italian: "salute" }],
  ["yes", { French: "oui", Spanish: "sí", German: "ja", Italian: "sì" }],
  ["water", { French: "eau", Spanish: "agua", German: "Wasser", Italian: "acqua" }],
];

const UNITS: Array<[string, string, number]> = [
  ["minutes", "hours", 60],
  ["seconds", "minutes", 60],
  ["hours", "days", 24],
  ["days", "weeks", 7],
  ["centimeters", "meters", 100],
  ["grams", "kilograms", 1000],
  ["months", "years", 12],
  ["millimeters", "centimeters", 10],
];

const TIPS: Array<[string, string]> = [
  ["writing a clear email", "Put the one thing you need from the reader in the first sentence."],
  ["staying focused", "Work in short blocks with one task each, and silence notifications while you do."],
  ["learning a language", "Practise a little every day rather than a lot once a week."],
  ["running a meeting", "Share the agenda beforehand and end with who does what by when."],
  ["sleeping better", "Keep the same bedtime every day and avoid screens in the last hour."],
  ["public speaking", "Rehearse out loud, and open with the point you most want people to remember."],
  ["saving money", "Move a fixed amount to savings on payday, before you spend anything."],
  ["keeping houseplants alive", "Check the soil with a finger and water only when the top few centimetres are dry."],
  ["cooking rice", "Rinse it first, then use about one and a half cups of water per cup of rice and keep the lid on."],
  ["remembering names", "Repeat the name back when you are introduced and use it once more before you part."],
  ["packing for a trip", "Lay out everything you plan to take, then put a third of it back."],
  ["writing a commit message", "Say what changed and why in one short line, details below."],
];

const MONTHS: Array<[string, string]> = [
  ["January", "31"],
  ["February", "28, or 29 in a leap year"],
  ["March", "31"],
  ["April", "30"],
  ["May", "31"],
  ["June", "30"],
  ["July", "31"],
  ["August", "31"],
  ["September", "30"],
  ["October", "31"],
  ["November", "30"],
  ["December", "31"],
];

/** The bank's tables, for the check that the hand-written eval sets never fed the generator. */
export const NO_TOOL_TABLES = { SMALL_TALK, FACTS, CAPITALS, SYNONYMS, PHRASES, UNITS, TIPS, MONTHS };

const FAMILIES: Family[] = [
  {
    conflicts: /\b(sum|plus|math|arithmetic|calculat\w*|comput\w*|multipl\w*|divid\w*)\b/i,
    make(rng, split) {
      const a = rng.int(2, 999);
      const b = rng.int(2, 99);
      const [op, result] = rng.pick([
        ["plus", a + b],
        ["minus", a - b],
        ["times", a * b],
        ["divided by", a],
      ] as const);
      const left = op === "divided by" ? a * b : a;
      const forms = {
        train: ["What is {a} {op} {b}?", "How much is {a} {op} {b}?", "what's {a} {op} {b}"],
        eval: ["Quick math: {a} {op} {b}?", "Can you work out {a} {op} {b} for me?"],
      };
      return { question: ask(rng, forms, split, { a: left, op, b }), answer: `${left} ${op} ${b} is ${result}.` };
    },
  },
  {
    conflicts: /\b(convert\w*|conversion|units?)\b/i,
    make(rng, split) {
      const [small, large, factor] = rng.pick(UNITS);
      const n = rng.int(2, 250);
      const forms = {
        train: ["How many {small} are in {n} {large}?", "How many {small} is {n} {large}?"],
        eval: ["{n} {large} is how many {small}?", "Convert {n} {large} to {small}, please."],
      };
      return {
        question: ask(rng, forms, split, { small, large, n }),
        answer: `${n} ${large} is ${n * factor} ${small}.`,
      };
    },
  },
  {
    conflicts: /\b(revers\w*|spell\w*|letters?|anagram\w*)\b/i,
    make(rng, split) {
      const word = withFaker(rng, (f) => f.word.noun()).toLowerCase();
      if (rng.bool()) {
        const forms = {
          train: ["Spell {w} backwards.", "What is {w} spelled backwards?"],
          eval: ["Write {w} in reverse.", "how do you spell {w} backwards"],
        };
        return {
          question: ask(rng, forms, split, { w: word }),
          answer: `"${word}" backwards is "${[...word].reverse().join("")}".`,
        };
      }
      const forms = {
        train: ["How many letters are in the word {w}?", "How many letters does {w} have?"],
        eval: ["Count the letters in {w}.", "letters in {w}?"],
      };
      return { question: ask(rng, forms, split, { w: word }), answer: `"${word}" has ${[...word].length} letters.` };
    },
  },
  {
    conflicts: /\b(capital|countr\w*|geograph\w*|cit(y|ies))\b/i,
    make(rng, split) {
      const [country, capital] = rng.pick(rowsFor(CAPITALS, split));
      const forms = {
        train: ["What's the capital of {c}?", "capital of {c}?", "What is the capital city of {c}?"],
        eval: ["Which city is the capital of {c}?", "Tell me the capital of {c}."],
      };
      return { question: ask(rng, forms, split, { c: country }), answer: `The capital of ${country} is ${capital}.` };
    },
  },
  {
    conflicts: /\b(synonyms?|thesaurus|dictionar\w*|defin\w*)\b/i,
    make(rng, split) {
      const [word, synonym] = rng.pick(rowsFor(SYNONYMS, split));
      const forms = {
        train: ["What's another word for {w}?", "Give me a synonym for {w}."],
        eval: ["Is there a different word I can use instead of {w}?", "synonym for {w}?"],
      };
      return { question: ask(rng, forms, split, { w: word }), answer: `"${synonym}" is another word for "${word}".` };
    },
  },
  {
    conflicts: /\b(translat\w*|languages?)\b/i,
    make(rng, split) {
      const [phrase, by] = rng.pick(rowsFor(PHRASES, split));
      const lang = rng.pick(Object.keys(by));
      const forms = {
        train: ["How do you say {p} in {l}?", "What is {p} in {l}?"],
        eval: ["Translate {p} into {l}.", "{p} in {l}?"],
      };
      return {
        question: ask(rng, forms, split, { p: phrase, l: lang }),
        answer: `"${phrase}" in ${lang} is "${by[lang]}".`,
      };
    },
  },
  {
    conflicts: /\b(calendar|dates?|months?)\b/i,
    make(rng, split) {
      const [month, days] = rng.pick(MONTHS);
      const forms = {
        train: ["How many days are in {m}?", "How many days does {m} have?"],
        eval: ["Is {m} a 30 or 31 day month?", "days in {m}?"],
      };
      return { question: ask(rng, forms, split, { m: month }), answer: `${month} has ${days} days.` };
    },
  },
  {
    conflicts: /\b(tips?|advice|advis\w*)\b/i,
    make(rng, split) {
      const [topic, tip] = rng.pick(TIPS);
      const forms = {
        train: ["Give me one tip for {t}.", "Any tips for {t}?", "What's a good tip for {t}?"],
        eval: ["I could use some advice on {t}.", "How do I get better at {t}?"],
      };
      return { question: ask(rng, forms, split, { t: topic }), answer: tip };
    },
  },
  {
    conflicts: /\b(trivia|facts?|quiz\w*|science|planets?|astronom\w*)\b/i,
    make(rng, split) {
      const [question, answer] = rng.pick(rowsFor(FACTS, split));
      return { question, answer };
    },
  },
  {
    conflicts: /\b(chat\w*|greet\w*|jokes?)\b/i,
    make(rng, split) {
      const [question, answer] = rng.pick(rowsFor(SMALL_TALK, split));
      return { question, answer };
    },
  },
];

/** The families that no tool of this toolset could answer. */
export function familiesFor(tools: readonly McpTool[]): number[] {
  const text = tools.map((t) => `${t.name.replace(/[_\-.]+/g, " ")} ${t.description ?? ""}`).join(" ");
  const usable = FAMILIES.map((f, i) => (f.conflicts.test(text) ? -1 : i)).filter((i) => i >= 0);
  return usable.length > 0 ? usable : [FAMILIES.length - 1];
}

/** A question from one family (by index) in the split's own phrasings, and its answer. */
export function drawQuestion(family: number, rng: Rng, split: "train" | "eval" = "train"): DirectQA {
  return FAMILIES[family % FAMILIES.length]!.make(rng, split);
}
