// Issue 12's targets, judged on one run: each as a ratio to the trivial route of the same run. A
// target that the floor of its scenario cannot reach, measured in the same run, is out of reach on
// this runtime; it then counts as met when within 10% of that floor. An app-token post's floor is
// the I/O it cannot skip (F3: its two rate-limit checks, the D1 read of a user not cached, the
// append, answering with the conversation's newest messages as the contract's post does); an
// app-JWT post's is F2s (the same with the one check a server credential passes); a post
// with a webhook's is F4d: F4 (F3, then the message sent to a queue, and a consumer POSTing it to
// the same target, sharing the machine with the posts as Parley's consumer does) with what the
// guarantees require of any design: the job written in the append's transaction and the alarm
// armed as its safety net (no webhook lost once the message is stored), the delivered ids read
// and recorded (none sent twice), each POST signed. A read's is F5 (the
// two checks, the D1 read of the user, the newest 100 messages of its conversation); posts to one
// conversation's is F3c (F3's append to one object, answering with its newest 100 messages, as
// the contract's post answers); an init's is
// F6 (the two checks, a D1 read, and one D1 batch writing the new device and its user). The
// conversation index's reads (issue 26) have no rate of their own to reach: each is judged against
// its floor, the same query over a plain copy of the index behind an app JWT's one check (F7 the
// list, F8 the search), and met within 10% of it; the index's lag (a message's 201 to its showing in
// the list, under scenario 2's load) has issue 26's 2 s at p99.

export interface Measured {
  /** Each scenario's rate over the baseline's, by scenario id. */
  ratios: Record<string, number>;
  /** The floor's rates over the same baseline. */
  floor: {
    append: number;
    readAppend: number;
    serverReadAppend: number;
    limitedReadAppend: number;
    webhook: number;
    durableWebhook: number;
    read: number;
    oneConversation: number;
    init: number;
  } & IndexMeasured["floor"];
  /** The 20,000-message read's rate over the 100-message read's, measured right before it. */
  largeReadOverSmall: number;
  webhookP50: number | null;
  webhookP99: number | null;
  oneConversationIncreasing: boolean;
  indexLagP50: number | null;
  indexLagP99: number | null;
}

/** What the index's verdicts read: rates over the baseline, lags in ms (null: beyond the wait). */
export interface IndexMeasured {
  ratios: Record<string, number>;
  floor: { list: number; search: number };
  indexLagP50: number | null;
  indexLagP99: number | null;
}

export interface Verdict {
  id: string;
  what: string;
  goal: string;
  measured: string;
  /** met, or out of reach but within 10% of the floor, or missed. */
  outcome: "met" | "at the floor" | "missed";
  note?: string;
}

const x = (n: number) => `${n.toFixed(2)}×`;
const FLOOR_MARGIN = 0.9;

/** A rate target, judged against the floor when the floor itself is below it. */
function rate(id: string, what: string, measured: number | undefined, goal: number, floor?: number): Verdict {
  const value = measured ?? 0;
  const base = { id, what, goal: `≥ ${x(goal)}`, measured: x(value) };
  if (value >= goal) return { ...base, outcome: "met" };
  if (floor !== undefined && floor < goal && value >= FLOOR_MARGIN * floor) {
    return { ...base, outcome: "at the floor", note: `the floor runs at ${x(floor)}: ${x(value / floor)} of it` };
  }
  return { ...base, outcome: "missed", ...(floor !== undefined && { note: `the floor runs at ${x(floor)}` }) };
}

/** A rate with no goal of its own but its floor's: met within 10% of it. */
function nearFloor(id: string, what: string, measured: number | undefined, floor: number): Verdict {
  const value = measured ?? 0;
  return {
    id,
    what,
    goal: `≥ ${FLOOR_MARGIN.toFixed(2)} of its floor`,
    measured: x(value),
    outcome: value >= FLOOR_MARGIN * floor ? "met" : "missed",
    note: `the floor runs at ${x(floor)}: ${x(value / floor)} of it`,
  };
}

const ms = (n: number | null) => (n === null ? "n/a" : `${Math.round(n).toLocaleString("en-US")} ms`);
const INDEX_LAG_P99_MS = 2_000;

/** Issue 26's figures: the list and search reads against their floors, and the index's lag. */
export function judgeIndex(m: IndexMeasured): Verdict[] {
  const verdicts: Verdict[] = [];
  if (m.ratios["9"] !== undefined) verdicts.push(nearFloor("9", "list the app's conversations (25)", m.ratios["9"], m.floor.list));
  if (m.ratios["10"] !== undefined) verdicts.push(nearFloor("10", "search the app's messages (25)", m.ratios["10"], m.floor.search));
  if (m.ratios["11"] !== undefined) {
    verdicts.push({
      id: "11",
      what: "index lag: a message's 201 → its conversation's lastMessage in the list, under 2's load",
      goal: `p99 ≤ ${ms(INDEX_LAG_P99_MS)}`,
      measured: `p50 ${ms(m.indexLagP50)}, p99 ${ms(m.indexLagP99)}`,
      outcome: m.indexLagP99 !== null && m.indexLagP99 <= INDEX_LAG_P99_MS ? "met" : "missed",
    });
  }
  return verdicts;
}

export function judge(m: Measured): Verdict[] {
  const { ratios, floor } = m;
  const webhookMet = m.webhookP50 !== null && m.webhookP99 !== null && m.webhookP50 <= 300 && m.webhookP99 <= 1000;
  const one = rate("3", "one conversation under concurrent posts", ratios["3"], 0.35, floor.oneConversation);
  return [
    rate("2", "post a message (app token)", ratios["2"], 0.4, floor.limitedReadAppend),
    rate("2j", "post a message (app JWT)", ratios["2j"], 0.38, floor.serverReadAppend),
    rate("7", "post to a user whose app has a webhook", ratios["7"], 0.3, floor.durableWebhook),
    rate("5", "init", ratios["5"], 0.4, floor.init),
    rate("4a", "read the newest page of 100 messages", ratios["4a"], 0.5, floor.read),
    rate("4b", "the same of a 20,000-message conversation, over 4a", m.largeReadOverSmall, 0.95),
    {
      id: "7d",
      what: "webhook arrival after the post's 2xx, under 7's load",
      goal: "p50 ≤ 300 ms, p99 ≤ 1,000 ms",
      measured: `p50 ${ms(m.webhookP50)}, p99 ${ms(m.webhookP99)}`,
      outcome: webhookMet ? "met" : "missed",
    },
    m.oneConversationIncreasing ? one : { ...one, outcome: "missed", note: "received did not strictly increase" },
    ...judgeIndex(m),
  ];
}

/** A Markdown table of the verdicts, for the terminal and the README. */
export function verdictLines(verdicts: Verdict[]): string[] {
  return [
    "| # | target | goal | measured | outcome |",
    "|---|---|---|---|---|",
    ...verdicts.map((v) => `| ${v.id} | ${v.what} | ${v.goal} | ${v.measured} | ${v.outcome}${v.note ? ` (${v.note})` : ""} |`),
  ];
}
