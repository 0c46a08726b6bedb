import { Backoff } from './backoff.js';
import { CircuitBreaker, type BreakerSettings, type BreakerState } from './circuit-breaker.js';

/** static: configured peers and seeds, kept and redialled forever (§9); gossip and dialback: learned. */
export type AddressKind = 'static' | 'gossip' | 'dialback';

export interface DirectoryHost {
  dial(address: string): void;
  isLinked(instanceId: string): boolean;
  /** Every known address has now been tried (see `settled`). */
  onSettled(): void;
}

export interface DirectorySettings extends BreakerSettings {
  backoffInitialMs: number;
  backoffFactor: number;
  backoffMaxMs: number;
}

export interface AddressStatus {
  address: string;
  kind: AddressKind;
  instanceId: string;
  state: 'linked' | 'dialing' | 'waiting' | 'stopped';
  breaker: BreakerState;
}

interface Entry {
  address: string;
  kind: AddressKind;
  backoff: Backoff;
  breaker: CircuitBreaker;
  timer: NodeJS.Timeout | null;
  dialing: boolean;
  linked: boolean;
  stopped: boolean;
  instanceId: string;
  /** Linked, or failed once, since it was learned: its member is known to be there or not. */
  tried: boolean;
}

/** Upper bound on remembered addresses (§1: at most 256 peers; learned ones beyond that are ignored). */
const MAX_ADDRESSES = 512;

/**
 * The addresses this member dials (MESH.md §9, §11): when to dial each one, with backoff, jitter and
 * a circuit breaker per address, and when to forget learned ones.
 */
export class PeerDirectory {
  reconnects = 0;
  private readonly entries = new Map<string, Entry>();
  /** Addresses that reached this member itself (another name for it: loopback, a second interface). */
  private readonly selfAliases = new Set<string>();
  private untried = 0;
  private closed = false;

  constructor(
    private readonly host: DirectoryHost,
    private readonly s: DirectorySettings,
    /** Set once the listener is bound when the address is derived from it. */
    public selfAddress: string,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  has(address: string): boolean {
    return this.entries.has(address);
  }

  /**
   * The addresses worth passing on in gossip: those not yet reached. A reached address may be
   * another name for its member (a sibling dialed over loopback); the member's own advertised
   * address is what others should dial, and links announce that.
   */
  unreachedAddresses(): string[] {
    const out: string[] = [];
    for (const e of this.entries.values()) if (e.instanceId === '') out.push(e.address);
    return out;
  }

  /**
   * Every address this member knows of has been linked or has failed once. Until then a member that
   * just started, or just learned addresses from gossip, may not yet see the whole mesh (MESH.md
   * §E.a: a claim sent then misses the owner it does not know of yet).
   */
  get settled(): boolean {
    return this.untried === 0;
  }

  /** Adds an address and dials it at once; false when it is this member's own, known or over the cap. */
  learn(address: string, kind: AddressKind): boolean {
    if (this.closed || address === this.selfAddress || this.entries.has(address)) return false;
    if (this.selfAliases.has(address) || this.entries.size >= MAX_ADDRESSES) return false;
    const entry: Entry = {
      address,
      kind,
      backoff: new Backoff(this.s.backoffInitialMs, this.s.backoffFactor, this.s.backoffMaxMs),
      breaker: new CircuitBreaker(this.s),
      timer: null,
      dialing: false,
      linked: false,
      stopped: false,
      instanceId: '',
      tried: false,
    };
    this.entries.set(address, entry);
    this.untried++;
    this.schedule(entry, 0);
    return true;
  }

  /** §E.c dial-back to `instanceId` at `address`: dial now unless already dialing it or linked to it. */
  dialSoon(address: string, instanceId: string): void {
    const entry = this.entries.get(address);
    if (entry === undefined) {
      this.learn(address, 'dialback');
      return;
    }
    // A replacement takes over its predecessor's address while that one still drains (a rolling
    // restart): the address no longer leads to the member it was linked to.
    if (entry.instanceId !== instanceId) {
      entry.linked = false;
      entry.instanceId = instanceId;
    }
    if (!entry.dialing && !entry.linked && !entry.stopped) this.schedule(entry, 0);
  }

  isDialing(address: string): boolean {
    return this.entries.get(address)?.dialing === true;
  }

  dialSucceeded(address: string, instanceId: string): void {
    const entry = this.entries.get(address);
    if (entry === undefined) return;
    entry.dialing = false;
    entry.linked = true;
    entry.instanceId = instanceId;
    entry.backoff.reset();
    entry.breaker.onSuccess();
    this.markTried(entry);
  }

  dialFailed(address: string): void {
    const entry = this.entries.get(address);
    if (entry === undefined) return;
    entry.dialing = false;
    entry.breaker.onFailure(Date.now());
    this.markTried(entry);
    if (entry.kind !== 'static' && entry.breaker.state === 'open') return this.forget(entry);
    this.schedule(entry, Math.max(entry.backoff.next(), entry.breaker.waitMs(Date.now())));
  }

  /**
   * The dial reached this member itself: the address is another name for it (static peer lists
   * shared by every node include the node itself). Never dialed again, even when configured.
   */
  dialReachedSelf(address: string): void {
    const entry = this.entries.get(address);
    if (entry === undefined) return;
    entry.dialing = false;
    if (this.selfAliases.size < MAX_ADDRESSES) this.selfAliases.add(address);
    this.forget(entry);
  }

  /**
   * The acceptor, `instanceId`, answered and refused the link: by the tiebreak (§4/§E.c; its
   * dial-back is coming) or as a duplicate of a link it has with us (docs/MESH-EXTENSIONS.md). No
   * failure is counted: the address leads to that member. Unless linked to it already, wait
   * `holdMs` and try again; an original member (null) is never dialed again.
   */
  dialRefused(address: string, instanceId: string, holdMs: number | null): void {
    const entry = this.entries.get(address);
    if (entry === undefined) return;
    entry.dialing = false;
    entry.instanceId = instanceId;
    entry.breaker.onSuccess();
    if (this.host.isLinked(instanceId)) {
      // The other link to it opened while our dial was still waiting for the answer.
      entry.linked = true;
      this.markTried(entry);
      return;
    }
    // The member is there but not linked yet: still untried.
    if (holdMs === null) {
      entry.stopped = true;
      this.markTried(entry);
    } else this.schedule(entry, holdMs);
  }

  /** A link to `instanceId` closed: static addresses are redialled with backoff, learned ones forgotten. */
  linkClosed(instanceId: string): void {
    for (const entry of this.entries.values()) {
      if (entry.instanceId !== instanceId || !entry.linked) continue;
      entry.linked = false;
      if (entry.kind !== 'static') {
        this.forget(entry);
        continue;
      }
      this.reconnects++;
      this.schedule(entry, entry.backoff.next());
    }
  }

  /**
   * A link to `instanceId` opened some other way (it dialed us, or we reached it under another
   * name): its advertised address, and any address that led to it, wait for that link to end.
   */
  linkedVia(instanceId: string, address: string): void {
    for (const entry of this.entries.values()) {
      if (entry.dialing || entry.linked || (entry.address !== address && entry.instanceId !== instanceId)) continue;
      entry.instanceId = instanceId;
      entry.linked = true;
      if (entry.timer !== null) clearTimeout(entry.timer);
      entry.timer = null;
      this.markTried(entry);
    }
  }

  status(): AddressStatus[] {
    return [...this.entries.values()].map((e) => ({
      address: e.address,
      kind: e.kind,
      instanceId: e.instanceId,
      state: e.linked ? 'linked' : e.dialing ? 'dialing' : e.stopped ? 'stopped' : 'waiting',
      breaker: e.breaker.state,
    }));
  }

  close(): void {
    this.closed = true;
    for (const entry of this.entries.values()) if (entry.timer !== null) clearTimeout(entry.timer);
  }

  private forget(entry: Entry): void {
    if (entry.timer !== null) clearTimeout(entry.timer);
    this.entries.delete(entry.address);
    this.markTried(entry);
  }

  private markTried(entry: Entry): void {
    if (entry.tried) return;
    entry.tried = true;
    if (--this.untried === 0 && !this.closed) this.host.onSettled();
  }

  private schedule(entry: Entry, delayMs: number): void {
    if (this.closed) return;
    if (entry.timer !== null) clearTimeout(entry.timer);
    entry.timer = setTimeout(() => this.attempt(entry), delayMs);
  }

  private attempt(entry: Entry): void {
    entry.timer = null;
    if (this.closed || entry.stopped || entry.dialing || entry.linked) return;
    if (entry.instanceId !== '' && this.host.isLinked(entry.instanceId)) {
      entry.linked = true;
      this.markTried(entry);
      return;
    }
    const now = Date.now();
    if (!entry.breaker.tryAttempt(now)) {
      this.schedule(entry, entry.breaker.waitMs(now) + 1);
      return;
    }
    entry.dialing = true;
    this.host.dial(entry.address);
  }
}
