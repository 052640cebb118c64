import type { Triage } from "../../db/conversation-index";
import type { ConversationStatus } from "../../enums";

/** A change the business asks for; the assignee with the name its webhook shows. */
export interface TriageChange {
  status?: ConversationStatus;
  assignee?: { email: string; name: string } | null;
}

/** What a change did: the state before and after (equal when it changed nothing). */
export interface TriageOutcome {
  before: Triage;
  after: Triage;
}

/**
 * The conversation's triage state, one row of its `meta` table, kept in memory as last read or
 * written (a transaction that wrote it and then failed must call `forget`). No row until the
 * business first changes the state: the object then adopts what the index showed (`seed`).
 */
export class TriageKeeper {
  private known: Triage | null | undefined;

  constructor(private readonly sql: SqlStorage) {}

  /** The state, or null while the business has never changed it here. */
  get current(): Triage | null {
    if (this.known !== undefined) return this.known;
    const rows = this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'triage'").toArray();
    this.known = rows.length > 0 ? (JSON.parse(rows[0].value) as Triage) : null;
    return this.known;
  }

  /** Applies a change, starting from `seed` when there is no state yet; a change that changes nothing is not numbered. */
  change(change: TriageChange, seed: Triage): TriageOutcome {
    const before = this.current ?? seed;
    const after: Triage = {
      status: change.status ?? before.status,
      assignee: change.assignee === undefined ? before.assignee : (change.assignee?.email ?? null),
      seq: before.seq + 1,
    };
    if (after.status === before.status && after.assignee === before.assignee) return { before, after: before };
    this.save(after);
    return { before, after };
  }

  /** A new appUser message reopens a closed conversation; returns the state messages carry to the index. */
  appUserWrote(): Triage | null {
    const state = this.current;
    if (state?.status !== "closed") return state;
    const reopened: Triage = { ...state, status: "open", seq: state.seq + 1 };
    this.save(reopened);
    return reopened;
  }

  /** After a transaction that may have written the row was rolled back. */
  forget(): void {
    this.known = undefined;
  }

  private save(state: Triage): void {
    this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('triage', ?)", JSON.stringify(state));
    this.known = state;
  }
}
