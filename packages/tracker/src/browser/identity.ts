import { load, randomId, save } from './storage.js';

const ANON_KEY = 'sigflow_anon';
const USER_KEY = 'sigflow_user';
const OPT_OUT_KEY = 'sigflow_optout';

/**
 * Who the visitor is: an anonymous first-party id, created once and kept (localStorage and a
 * first-party cookie), replaced in events by the id the site names with `identify`. The opt-out
 * flag lives beside them.
 */
export class Identity {
  private readonly anonymous: string;
  private identified: string | null;

  constructor() {
    let anon = load(ANON_KEY);
    if (!anon || anon.length > 128) {
      anon = `anon-${randomId()}`;
      save(ANON_KEY, anon);
    }
    this.anonymous = anon;
    this.identified = load(USER_KEY);
  }

  /** The user_id of the next events. */
  userId(): string {
    return this.identified ?? this.anonymous;
  }

  /** The site's own id for the visitor (1-128 characters); later events carry it. */
  identify(userId: string): boolean {
    if (typeof userId !== 'string' || userId.length < 1 || userId.length > 128) return false;
    this.identified = userId;
    save(USER_KEY, userId);
    return true;
  }

  static optedOut(): boolean {
    return load(OPT_OUT_KEY) === '1';
  }

  static setOptOut(out: boolean): void {
    save(OPT_OUT_KEY, out ? '1' : null);
  }
}
