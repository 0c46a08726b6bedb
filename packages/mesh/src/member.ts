import type { Server } from 'node:net';
import { Cap, CAPS_ALL } from './frame/constants.js';
import { MeshError } from './errors.js';
import { uuidv7 } from './instance-id.js';
import { InterestRouting } from './interest/interest-routing.js';
import { advertiseHost, formatAddress } from './link/address.js';
import type { LocalIdentity } from './link/handshake.js';
import { Heartbeat } from './link/heartbeat.js';
import { LinkLifecycle } from './link/link-lifecycle.js';
import { listen } from './link/transport.js';
import { DeadLetterRing, type DeadLetter } from './membership/dead-letter.js';
import { Gossip } from './membership/gossip.js';
import { LinkTable } from './membership/link-table.js';
import { PeerDirectory } from './membership/peer-directory.js';
import { SettledView } from './membership/settled-view.js';
import { meshStats, memberRows, type MemberInfoRow } from './member-views.js';
import { newMemberCounters, type MeshStats } from './metrics.js';
import { checkOptions, DEFAULT_TUNING, type MeshLogger, type MeshMemberOptions, type MeshTuning } from './options.js';
import type { PresenceEvent, PresenceSnapshot } from './presence/presence-codec.js';
import { PresenceRelay, type PresenceChange } from './presence/presence-relay.js';
import { LocalDelivery, type DeliverHandler, type UnstampedHandler } from './routing/local-delivery.js';
import { RangeService, type RangeProvider } from './routing/range-service.js';
import { UnstampedPublisher } from './routing/unstamped-publisher.js';
import { Sequencer } from './sequencer/sequencer.js';
import type { Stamp } from './sequencer/topic-state.js';

export type { DeliverHandler, UnstampedHandler, MemberInfoRow };

const NOOP_LOGGER: MeshLogger = { info() {}, warn() {}, error() {}, debug() {} };

/**
 * A mesh member (MESH.md): listens, dials, keeps links, routes interest, sequences the topics it
 * owns and hands everything else to their owners. The server talks to it through this class only;
 * the work is done by the parts it wires together here.
 */
export class MeshMember {
  readonly instanceId: string;

  private readonly tuning: MeshTuning;
  private readonly log: MeshLogger;
  private readonly identity: LocalIdentity;
  private readonly counters = newMemberCounters();
  private readonly links = new LinkTable();
  private readonly deadLetters: DeadLetterRing;
  private readonly directory: PeerDirectory;
  private readonly view: SettledView;
  private readonly interest: InterestRouting;
  private readonly sequencer: Sequencer;
  private readonly delivery: LocalDelivery;
  private readonly ranges: RangeService;
  private readonly presence: PresenceRelay;
  private readonly publisher: UnstampedPublisher;
  private readonly heartbeat: Heartbeat;
  private readonly lifecycle: LinkLifecycle;
  private server: Server | null = null;
  private state: 'new' | 'started' | 'stopped' = 'new';

  constructor(private readonly options: MeshMemberOptions) {
    checkOptions(options);
    const t = (this.tuning = { ...DEFAULT_TUNING, ...options.tuning });
    this.log = options.logger ?? NOOP_LOGGER;
    this.instanceId = options.instanceId ?? uuidv7();
    this.identity = {
      instanceId: this.instanceId,
      nodeId: options.nodeId,
      workerIndex: options.workerIndex,
      workerCount: options.workerCount,
      address: options.advertise ?? '',
      caps: capabilities(options),
      secret: options.clusterSecret ?? null,
    };
    this.deadLetters = new DeadLetterRing(t.deadLetterSize);
    this.directory = new PeerDirectory(
      { dial: (a) => this.lifecycle.handshaker.dial(a), isLinked: (id) => this.links.has(id), onSettled: () => this.view.directorySettled() },
      {
        backoffInitialMs: t.backoffInitialMs,
        backoffFactor: t.backoffFactor,
        backoffMaxMs: t.backoffMaxMs,
        threshold: t.breakerThreshold,
        openMs: t.breakerOpenMs,
        probes: t.breakerProbes,
      },
      this.identity.address,
    );
    this.view = new SettledView(this.directory, () => this.sequencer.onMembershipSettled());
    this.interest = new InterestRouting(this.links, this.counters, t.resyncIntervalMs);
    this.sequencer = new Sequencer(
      {
        selfId: this.instanceId,
        viewGen: () => this.links.viewGen,
        routeGen: () => this.links.routeGen,
        candidates: () => this.lifecycle.candidates(),
        candidateLinks: () => this.links.sequencerPeers(),
        membershipSettled: () => this.view.settled,
        linkTo: (id) => this.links.get(id),
        fanoutTargets: (topic) => this.interest.targets(topic),
        deliversLocally: () => this.delivery.onDeliver !== null,
        deliver: (topic, stamped, epoch, offset, origin) => this.delivery.deliver(topic, stamped, epoch, offset, origin),
      },
      t,
    );
    this.delivery = new LocalDelivery(this.sequencer, options.recovery, this.counters, this.log);
    this.ranges = new RangeService(this.links, this.counters);
    this.presence = new PresenceRelay(this.links, options.presence === true, this.counters);
    this.publisher = new UnstampedPublisher(this.instanceId, this.interest, this.delivery, () => this.state === 'started');
    this.heartbeat = new Heartbeat(this.links, t, this.counters, (link, now) => this.interest.sendResync(link, now), (link) => this.view.ponged(link));
    this.lifecycle = new LinkLifecycle({
      identity: this.identity,
      tuning: t,
      tls: options.tls ?? null,
      isStarted: () => this.state === 'started',
      links: this.links,
      directory: this.directory,
      view: this.view,
      sequencer: this.sequencer,
      ranges: this.ranges,
      interest: this.interest,
      gossip: new Gossip(this.links, this.directory, this.identity),
      presence: this.presence,
      delivery: this.delivery,
      heartbeat: this.heartbeat,
      publisher: this.publisher,
      deadLetters: this.deadLetters,
      counters: this.counters,
      log: this.log,
    });
  }

  /** Called synchronously for every stamped message this member fans out locally. */
  get onDeliver(): DeliverHandler | null {
    return this.delivery.onDeliver;
  }
  set onDeliver(fn: DeliverHandler | null) {
    this.delivery.onDeliver = fn;
  }

  /** §E.f: answers other members' RANGE_REQUESTs from this member's recovery rings. */
  get onRangeRequest(): RangeProvider | null {
    return this.ranges.provider;
  }
  set onRangeRequest(fn: RangeProvider | null) {
    this.ranges.provider = fn;
  }

  /**
   * §E.f: asks every RANGE peer for the stamped messages of (topic, epoch) from `from` on; resolves
   * with the longest answer in by `timeoutMs` (messages `from`, `from`+1, …), or null.
   */
  fetchRange(topic: string, epoch: number, from: number, timeoutMs: number): Promise<Buffer[] | null> {
    if (this.state !== 'started') return Promise.resolve(null);
    return this.ranges.fetch(topic, epoch, from, timeoutMs);
  }

  /** MSGs without a trailer (original members, or recovery off). */
  get onUnstamped(): UnstampedHandler | null {
    return this.delivery.onUnstamped;
  }
  set onUnstamped(fn: UnstampedHandler | null) {
    this.delivery.onUnstamped = fn;
  }

  /** Remote presence events (§10), when presence is enabled. */
  get onPresence(): ((event: PresenceEvent) => void) | null {
    return this.presence.onPresence;
  }
  set onPresence(fn: ((event: PresenceEvent) => void) | null) {
    this.presence.onPresence = fn;
  }

  /** Local presence state for PresenceFull after each handshake (§4, §10). */
  get presenceSnapshot(): (() => PresenceSnapshot) | null {
    return this.presence.snapshot;
  }
  set presenceSnapshot(fn: (() => PresenceSnapshot) | null) {
    this.presence.snapshot = fn;
  }

  /** The membership changed (a link opened, closed, or a peer started draining). */
  get onMembersChanged(): (() => void) | null {
    return this.lifecycle.onMembersChanged;
  }
  set onMembersChanged(fn: (() => void) | null) {
    this.lifecycle.onMembersChanged = fn;
  }

  /** The address peers dial (known after `start()`). */
  get address(): string {
    return this.identity.address;
  }

  async start(): Promise<void> {
    if (this.state !== 'new') throw new MeshError('WSE_ERR_MESH_STOPPED', 'start() may be called once');
    const { host, port } = this.options.listen;
    const handshaker = this.lifecycle.handshaker;
    this.server = await listen(
      host,
      port,
      this.options.tls ?? null,
      this.tuning.helloTimeoutMs,
      (socket) => handshaker.accept(socket),
      () => this.counters.tlsFailures++,
    );
    this.state = 'started';
    if (this.identity.address === '') {
      const bound = this.server.address();
      const boundPort = typeof bound === 'object' && bound !== null ? bound.port : port;
      this.identity.address = formatAddress(advertiseHost(host), boundPort);
      this.directory.selfAddress = this.identity.address;
    }
    this.heartbeat.start();
    for (const a of [...(this.options.peers ?? []), ...(this.options.seeds ?? [])]) this.directory.learn(a, 'static');
    this.log.info({ instanceId: this.instanceId, address: this.identity.address }, 'mesh member started');
  }

  /** Refcounted local interest (§6): 0→1 sends SUB to every interest-routing link. */
  addInterest(topic: string): void {
    this.interest.add(topic);
  }

  /** 1→0 sends UNSUB. */
  removeInterest(topic: string): void {
    this.interest.remove(topic);
  }

  /**
   * Publishes `body` (a JSON object with `c`, no `tp`/`e`/`o`) to `topic` through its owner (§E.a).
   * Resolves with the stamp once sequenced; waits while target links are above their high-water
   * mark (§E.b.3). Rejects with a MeshError when invalid or oversize. Without recovery the message
   * goes out unstamped (§7) and resolves with null.
   */
  publish(topic: string, body: Buffer): Promise<Stamp | null> {
    if (!this.options.recovery) return this.publisher.publish(topic, body);
    return this.sequencer.publish(topic, body);
  }

  /**
   * `publish` without a promise, for callers that publish in a loop: when the message can be
   * sequenced at once (this member owns the topic and has claimed it, nothing for it waits, no
   * target link is full) it is, and the stamp is returned. Otherwise nothing happens and null is
   * returned: call `publish` for this message, which waits its turn (§E.b.3). Always null without
   * recovery. Throws a MeshError for an invalid or oversize body.
   */
  publishNow(topic: string, body: Buffer): Stamp | null {
    if (!this.options.recovery) return null;
    return this.sequencer.publishNow(topic, body);
  }

  /** §E.b.4: the server's fan-out backlog passed its mark (true) or fell below half of it (false). */
  setIntakePaused(paused: boolean): void {
    this.lifecycle.setIntakePaused(paused);
  }

  /** §11 DRAIN: peers stop routing to this member; owned topics are handed over (§E.a). */
  drain(): void {
    if (this.lifecycle.draining || this.state !== 'started') return;
    this.lifecycle.drain();
  }

  /**
   * Stops accepting links and frees the listen port; the links this member has stay up. A rolling
   * restart hands the port to the member that replaces this one before this one drains.
   */
  closeListener(): void {
    // close() frees the port at once; its callback would wait for the accepted links, which stay.
    this.server?.close();
    this.server = null;
  }

  /** DRAIN (if not yet), SHUTDOWN to every link, then close everything. */
  async stop(): Promise<void> {
    if (this.state !== 'started') {
      this.state = 'stopped';
      return;
    }
    this.drain();
    await this.settleOutstanding(2_000);
    this.state = 'stopped';
    this.heartbeat.stop();
    this.directory.close();
    this.sequencer.stop();
    this.ranges.stop();
    this.lifecycle.closeAll();
    this.publisher.wake();
    const server = this.server;
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()));
    this.log.info({ instanceId: this.instanceId }, 'mesh member stopped');
  }

  /** Sends a local presence change to every PRESENCE link (§10). */
  presenceLocal(topic: string, user: string, action: PresenceChange, data: unknown, updatedAt = Date.now()): void {
    this.presence.sendLocal(topic, user, action, data, updatedAt);
  }

  members(): MemberInfoRow[] {
    return memberRows(this.links.list, this.directory.status());
  }

  /** The instance id that sequences `topic` in this member's view. */
  ownerOf(topic: string): string {
    return this.sequencer.ownerOf(topic);
  }

  deadLetterEntries(): DeadLetter[] {
    return this.deadLetters.entries();
  }

  stats(): MeshStats {
    return meshStats({
      instanceId: this.instanceId,
      counters: this.counters,
      handshaking: this.lifecycle.handshaker.pending.size,
      links: this.links,
      directory: this.directory,
      deadLetters: this.deadLetters,
      sequencer: this.sequencer,
      localInterest: this.interest.size,
    });
  }

  /** PUBLISH frames still waiting for CREDIT get a moment to settle before the links close. */
  private async settleOutstanding(maxMs: number): Promise<void> {
    const deadline = Date.now() + maxMs;
    while (this.sequencer.creditsOutstanding > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  }
}

/** HELLO capabilities (§3, §E): everything this implementation speaks, less what is turned off. */
function capabilities(options: MeshMemberOptions): number {
  let caps = CAPS_ALL;
  if (!options.recovery) caps &= ~(Cap.RECOVERY | Cap.SEQUENCER | Cap.RANGE);
  if (options.compression === false) caps &= ~Cap.COMPRESSION;
  if (options.presence !== true) caps &= ~Cap.PRESENCE;
  if (options.clusterSecret !== undefined) caps |= Cap.AUTH;
  return caps;
}
