/**
 * A generated bAbI-style toy task (Weston et al. 2015, task 1 "single supporting fact"): short
 * stories of people moving between places, a question "Where is Mary?", and the one-word answer —
 * the place the person last went to. Seeded: the same options give the same stories. Words are
 * lower-case ids into one vocabulary whose id 0 is the padding word `<nil>`.
 */
import seedrandom from "seedrandom";
import { errors } from "../errors";
import { whole } from "./entry";

const PEOPLE = ["mary", "john", "sandra", "daniel"] as const;
const PLACES = ["kitchen", "garden", "office", "hallway", "bathroom", "bedroom"] as const;
const VERBS = ["went", "moved", "journeyed", "travelled"] as const;

/** The task's vocabulary: `<nil>` (padding, id 0), then every word its sentences and questions use. */
export const BABI_VOCAB: readonly string[] = Object.freeze(["<nil>", "where", "is", "to", "the", ...PEOPLE, ...VERBS, ...PLACES]);
/** The longest sentence ("mary journeyed to the kitchen") and question ("where is mary"), in words. */
export const BABI_SENTENCE_WORDS = 5;

/** Options of {@link babi}. */
export interface BabiOptions {
  /** Number of stories (default 32). */
  count?: number;
  /** Sentences per story (default 4): the memory network's NMemory must be at least this. */
  sentences?: number;
  seed?: number;
}

/** One story: its text, the question and answer, and the same as vocabulary ids. */
export interface BabiStory {
  readonly sentences: readonly string[];
  readonly question: string;
  readonly answer: string;
  /** [sentences, BABI_SENTENCE_WORDS] word ids, each sentence padded with 0 (`<nil>`). */
  readonly storyIds: readonly (readonly number[])[];
  /** [BABI_SENTENCE_WORDS] word ids of the question, padded with 0. */
  readonly queryIds: readonly number[];
  readonly answerId: number;
}

/** Word ids of a sentence, padded to the sentence length with `<nil>`. */
export function babiIds(text: string): number[] {
  const words = text.toLowerCase().replace(/[.?]/g, "").split(/\s+/).filter(Boolean);
  if (words.length > BABI_SENTENCE_WORDS) throw errors.badOption("sentence of babiIds", text, `at most ${BABI_SENTENCE_WORDS} words`);
  return Array.from({ length: BABI_SENTENCE_WORDS }, (_, i) => {
    if (i >= words.length) return 0;
    const id = BABI_VOCAB.indexOf(words[i]);
    if (id < 0) throw errors.unknownName("word", words[i], BABI_VOCAB, "the bAbI toy vocabulary");
    return id;
  });
}

/**
 * Generates `count` stories of the single-supporting-fact task. Each story's sentences move random
 * people to random places; the question asks about one of the people who moved (so it always has an
 * answer), and the answer is that person's last place. Returns the stories and their ids batched
 * for `zoo.memN2N`: `story` [count, sentences, 5], `query` [count, 5], `answer` [count].
 *
 * @example
 * const { stories, story, query, answer } = zoo.babi({ count: 2, seed: 1 });
 * stories[0].sentences; // ["Mary went to the kitchen.", "John moved to the garden.", …]
 * stories[0].question;  // "Where is Mary?"
 */
export function babi(options: BabiOptions = {}) {
  if (options === null || typeof options !== "object" || Array.isArray(options)) throw errors.badOption("of zoo.babi", options, "an options object");
  const known = ["count", "sentences", "seed"];
  for (const k of Object.keys(options)) if (!known.includes(k)) throw errors.unknownName("option", k, known, "zoo.babi");
  const count = whole("babi", "count", options.count ?? 32);
  const n = whole("babi", "sentences", options.sentences ?? 4);
  const random = seedrandom(`babi:${options.seed ?? 0}`);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)];
  const capital = (w: string) => w[0].toUpperCase() + w.slice(1);
  const stories: BabiStory[] = [];
  for (let k = 0; k < count; k++) {
    const moves = Array.from({ length: n }, () => ({ who: pick(PEOPLE), verb: pick(VERBS), to: pick(PLACES) }));
    const asked = pick(moves).who;
    const answer = moves.filter((m) => m.who === asked).at(-1)!.to;
    const sentences = moves.map((m) => `${capital(m.who)} ${m.verb} to the ${m.to}.`);
    const question = `Where is ${capital(asked)}?`;
    stories.push({ sentences, question, answer, storyIds: sentences.map(babiIds), queryIds: babiIds(question), answerId: BABI_VOCAB.indexOf(answer) });
  }
  return {
    vocab: BABI_VOCAB,
    stories,
    story: stories.map((s) => s.storyIds.map((ids) => [...ids])),
    query: stories.map((s) => [...s.queryIds]),
    answer: stories.map((s) => s.answerId),
  };
}
