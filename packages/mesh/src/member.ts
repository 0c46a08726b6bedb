import type { Server } from 'node:net';
import { networkInterfaces } from 'node:os';
import { Cap, CAPS_ALL, Flag, FrameType, PROTOCOL_VERSION } from './frame/constants.js';
import { decompressCapped } from './frame/compression.js';
import type { FrameView } from './frame/decoder.js';
import {
  decodePeerList,
  decodePresenceUpdate,
  encodePeerList,
  encodePresenceUpdate,
  PresenceAction,
  type Hello,
} from './frame/payloads.js';
import { MeshError } from './errors.js';
import { uuidv7 } from './instance-id.js';
import { InterestSet } from './interest/interest-set.js';
import { LocalInterest } from './interest/local-interest.js';
import { buildResync, parseResync } from './interest/resync.js';
import { formatAddress, isLiteralAddress } from './link/address.js';
import type { LocalIdentity } from './link/handshake.js';
import { Handshaker } from './link/handshaker.js';
import { MeshLink, newTrafficCounters, type LinkHost, type TrafficCounters } from './link/mesh-link.js';
import { listen } from './link/transport.js';
import { collectDeadLetters, DeadLetterRing, type DeadLetter } from './membership/dead-letter.js';
import { PeerDirectory } from './membership/peer-directory.js';
import { SettledView } from './membership/settled-view.js';
import { linkStats, memberRows, type MemberInfoRow } from './member-views.js';
import { newMemberCounters, type MemberCounters, type MeshStats } from './metrics.js';
import { checkOptions, DEFAULT_TUNING, type MeshLogger, type MeshMemberOptions, type MeshTuning } from './options.js';
import { buildPresenceFull, parsePresenceFull, type PresenceEvent, type PresenceSnapshot } from './presence/presence-codec.js';
import { Sequencer } from './sequencer/sequencer.js';
import type { Stamp } from './sequencer/topic-state.js';
import { isUtf8 } from 'node:buffer';

export type DeliverHandler = (topic: string, stamped: Buffer, epoch: number, offset: number, origin: string) => void;
export type UnstampedHandler = (topic: string, payload: Buffer, origin: string) => void;
export type { MemberInfoRow };

const NOOP_LOGGER: MeshLogger = { info() {}, warn() {}, error() {}, debug() {} };

/**
 * A mesh member (MESH.md): listens, dials, keeps links, routes interest, sequences the topics it
 * owns and hands everything else to their owners. The server talks to it through this class only.
 */
export class MeshMember implements LinkHost {
  readonly instanceId: string;
  /** Called synchronously for every stamped message this member fans out locally. */
  onDeliver: DeliverHandler | null = null;
  /** MSGs without a trailer (original members, or recovery off). */
  onUnstamped: UnstampedHandler | null = null;
  /** Remote presence events (§10), when presence is enabled. */
  onPresence: ((event: PresenceEvent) => void) | null = null;
  /** Local presence state for PresenceFull after each handshake (§4, §10). */
  presenceSnapshot: (() => PresenceSnapshot) | null = null;
  /** The membership changed (a link opened, closed, or a peer started draining). */
  onMembersChanged: (() => void) | null = null;

  private readonly tuning: MeshTuning;
  private readonly log: MeshLogger;
  private readonly identity: LocalIdentity;
  private readonly counters: MemberCounters = newMemberCounters();
  private readonly nodes = new Map<string, TrafficCounters>();
  private readonly links = new Map<string, MeshLink>();
  private readonly interest = new LocalInterest();
  private readonly deadLetters: DeadLetterRing;
  private readonly directory: PeerDirectory;
  private readonly view: SettledView;
  private readonly sequencer: Sequencer;
  private readonly handshaker: Handshaker;
  private server: Server | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private viewGeneration = 0;
  private routeGeneration = 0;
  private intakePaused = false;
  private draining = false;
  private state: 'new' | 'started' | 'stopped' = 'new';
  private openLinks: MeshLink[] = [];
  /** Unstamped publishers waiting for a full link to drain (bounded by the callers' own pacing). */
  private readonly writableWaiters: (() => void)[] = [];

  constructor(private readonly options: MeshMemberOptions) {
    checkOptions(options);
    this.tuning = { ...DEFAULT_TUNING, ...options.tuning };
    this.log = options.logger ?? NOOP_LOGGER;
    this.instanceId = options.instanceId ?? uuidv7();
    let caps = CAPS_ALL;
    if (!options.recovery) caps &= ~(Cap.RECOVERY | Cap.SEQUENCER);
    if (options.compression === false) caps &= ~Cap.COMPRESSION;
    if (options.presence !== true) caps &= ~Cap.PRESENCE;
    if (options.clusterSecret !== undefined) caps |= Cap.AUTH;
    this.identity = {
      instanceId: this.instanceId,
      nodeId: options.nodeId,
      workerIndex: options.workerIndex,
      workerCount: options.workerCount,
      address: options.advertise ?? '',
      caps,
      secret: options.clusterSecret ?? null,
    };
    this.deadLetters = new DeadLetterRing(this.tuning.deadLetterSize);
    const t = this.tuning;
    this.directory = new PeerDirectory(
      { dial: (a) => this.handshaker.dial(a), isLinked: (id) => this.links.has(id), onSettled: () => this.view.directorySettled() },
      {
        backoffInitialMs: t.backoffInitialMs,
        backoffFactor: t.backoffFactor,
        backoffMaxMs: t.backoffMaxMs,
        threshold: t.breakerThreshold,
        openMs: t.breakerOpenMs,
        probes: t.breakerProbes,
      },
      options.advertise ?? '',
    );
    this.view = new SettledView(this.directory, () => this.sequencer.onMembershipSettled());
    this.sequencer = new Sequencer(
      {
        selfId: this.instanceId,
        viewGen: () => this.viewGeneration,
        routeGen: () => this.routeGeneration,
        candidates: () => this.candidates(),
        candidateLinks: () => this.openLinks.filter((l) => l.has(Cap.SEQUENCER) && !l.peerDraining),
        membershipSettled: () => this.view.settled,
        linkTo: (id) => this.links.get(id),
        fanoutTargets: (topic) => this.openLinks.filter((l) => wants(l, topic)),
        deliver: (topic, stamped, epoch, offset, origin) => this.deliver(topic, stamped, epoch, offset, origin),
      },
      t,
    );
    this.handshaker = new Handshaker(
      {
        isStarted: () => this.state === 'started',
        linkHost: this,
        isLinked: (id) => this.links.has(id),
        peerCount: () => this.links.size,
        open: (link, hello) => this.open(link, hello),
      },
      this.identity,
      options.tls ?? null,
      t,
      this.directory,
      this.counters,
      this.log,
    );
  }

  /** The address peers dial (known after `start()`). */
  get address(): string {
    return this.identity.address;
  }

  async start(): Promise<void> {
    if (this.state !== 'new') throw new MeshError('WSE_ERR_MESH_STOPPED', 'start() may be called once');
    const { host, port } = this.options.listen;
    this.server = await listen(
      host,
      port,
      this.options.tls ?? null,
      this.tuning.helloTimeoutMs,
      (socket) => this.handshaker.accept(socket),
      () => this.counters.tlsFailures++,
    );
    this.state = 'started';
    const bound = this.server.address();
    const boundPort = typeof bound === 'object' && bound !== null ? bound.port : port;
    if (this.identity.address === '') {
      this.identity.address = formatAddress(advertiseHost(host), boundPort);
      this.directory.selfAddress = this.identity.address;
    }
    this.heartbeat = setInterval(() => this.tick(), this.tuning.pingIntervalMs);
    for (const a of [...(this.options.peers ?? []), ...(this.options.seeds ?? [])]) this.directory.learn(a, 'static');
    this.log.info({ instanceId: this.instanceId, address: this.identity.address }, 'mesh member started');
  }

  /** Refcounted local interest (§6): 0→1 sends SUB to every interest-routing link. */
  addInterest(topic: string): void {
    if (!this.interest.add(topic)) return;
    const t = Buffer.from(topic, 'utf8');
    for (const link of this.openLinks) if (link.has(Cap.INTEREST_ROUTING)) link.send(FrameType.SUB, 0, t, null);
  }

  /** 1→0 sends UNSUB. */
  removeInterest(topic: string): void {
    if (!this.interest.remove(topic)) return;
    const t = Buffer.from(topic, 'utf8');
    for (const link of this.openLinks) if (link.has(Cap.INTEREST_ROUTING)) link.send(FrameType.UNSUB, 0, t, null);
  }

  /**
   * Publishes `body` (a JSON object with `c`, no `tp`/`e`/`o`) to `topic` through its owner (§E.a).
   * Resolves with the stamp once sequenced; waits while target links are above their high-water
   * mark (§E.b.3). Rejects with a MeshError when invalid or oversize. Without recovery the message
   * goes out unstamped (§7) and resolves with null.
   */
  publish(topic: string, body: Buffer): Promise<Stamp | null> {
    if (!this.options.recovery) return this.publishUnstamped(topic, body);
    return this.sequencer.publish(topic, body);
  }

  /** §E.b.4: the server's fan-out backlog passed its mark (true) or fell below half of it (false). */
  setIntakePaused(paused: boolean): void {
    if (this.intakePaused === paused) return;
    this.intakePaused = paused;
    for (const link of this.openLinks) {
      if (paused) link.pauseReading();
      else link.resumeReading();
    }
  }

  /** §11 DRAIN: peers stop routing to this member; owned topics are handed over (§E.a). */
  drain(): void {
    if (this.draining || this.state !== 'started') return;
    this.draining = true;
    this.viewGeneration++;
    for (const link of this.openLinks) link.send(FrameType.DRAIN, 0, null, null);
    this.sequencer.drain();
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
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    this.directory.close();
    this.sequencer.stop();
    for (const link of [...this.openLinks]) {
      link.send(FrameType.SHUTDOWN, 0, null, null);
      link.end('shutdown');
    }
    this.handshaker.closeAll();
    this.wakeWriters();
    const server = this.server;
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()));
    this.log.info({ instanceId: this.instanceId }, 'mesh member stopped');
  }

  members(): MemberInfoRow[] {
    return memberRows(this.openLinks, this.directory.status());
  }

  /** The instance id that sequences `topic` in this member's view. */
  ownerOf(topic: string): string {
    return this.sequencer.ownerOf(topic);
  }

  deadLetterEntries(): DeadLetter[] {
    return this.deadLetters.entries();
  }

  stats(): MeshStats {
    return {
      ...this.counters,
      drops: { ...this.counters.drops },
      instanceId: this.instanceId,
      handshaking: this.handshaker.pending.size,
      ...linkStats(this.openLinks, this.nodes, this.directory),
      deadLetterSize: this.deadLetters.size,
      deadLetterTotal: this.deadLetters.total,
      creditsOutstanding: this.sequencer.creditsOutstanding,
      topics: this.sequencer.topics.size,
      localInterest: this.interest.size,
      sequencer: { ...this.sequencer.counters },
    };
  }

  /** Sends a local presence change to every PRESENCE link (§10). */
  presenceLocal(topic: string, user: string, action: 'join' | 'leave' | 'update', data: unknown, updatedAt = Date.now()): void {
    if (this.options.presence !== true) return;
    const payload = encodePresenceUpdate({
      action: action === 'join' ? PresenceAction.JOIN : action === 'leave' ? PresenceAction.LEAVE : PresenceAction.UPDATE,
      updatedAt,
      user,
      data: data === undefined || data === null ? '' : JSON.stringify(data),
    });
    const t = Buffer.from(topic, 'utf8');
    for (const link of this.openLinks) if (link.has(Cap.PRESENCE)) link.send(FrameType.PRESENCE_UPDATE, 0, t, payload);
  }

  // ---- LinkHost ----

  onLinkFrame(link: MeshLink, view: FrameView): void {
    if (link.state === 'handshake') return this.handshaker.onFrame(link, view);
    switch (view.type) {
      case FrameType.MSG:
        return this.onMsg(link, view);
      case FrameType.PING:
        return link.send(FrameType.PONG, 0, null, null);
      case FrameType.PONG:
        if (link.pingSentAt > 0) link.rttMs = Date.now() - link.pingSentAt;
        return this.view.ponged(link);
      case FrameType.HELLO:
        return; // §4: a HELLO after the handshake is ignored
      case FrameType.SHUTDOWN:
        return link.close('peer-shutdown');
      case FrameType.SUB:
      case FrameType.UNSUB:
        return this.onSubUnsub(link, view);
      case FrameType.RESYNC:
        return this.onResync(link, view);
      case FrameType.PEER_ANNOUNCE:
        return this.onPeerAnnounce(link, view);
      case FrameType.PEER_LIST:
        for (const a of decodePeerList(view.payload())) this.learnGossip(a);
        return;
      case FrameType.PRESENCE_UPDATE:
      case FrameType.PRESENCE_FULL:
        return this.onPresenceFrame(link, view);
      case FrameType.DRAIN:
        return this.onPeerDrain(link);
      default:
        if (view.type >= FrameType.PUBLISH && view.type <= FrameType.CREDIT && link.has(Cap.SEQUENCER)) {
          const topic = link.topics.decode(view.buf, view.topicStart, view.topicLen);
          if (topic === null) return link.close('bad-utf8');
          return this.sequencer.onFrame(link, view, topic);
        }
        this.counters.drops['unknown-type']++; // §2: skip, count, keep the link
    }
  }

  onLinkBadFrame(link: MeshLink, reason: string, err?: unknown): void {
    this.counters.badFrames++;
    this.log.warn({ peer: link.peerId, address: link.address, reason, err }, 'mesh: bad frame, closing link');
  }

  onLinkWritable(): void {
    this.sequencer.onLinkWritable();
    this.wakeWriters();
  }

  private wakeWriters(): void {
    if (this.writableWaiters.length === 0) return;
    for (const wake of this.writableWaiters.splice(0)) wake();
  }

  onLinkClosed(link: MeshLink, reason: string, unsent: Buffer[]): void {
    if (this.handshaker.onClosed(link)) return;
    if (this.links.get(link.peerId) !== link) return;
    this.links.delete(link.peerId);
    this.openLinks = [...this.links.values()];
    this.counters.linksClosed++;
    this.viewGeneration++;
    this.routeGeneration++;
    const lost = collectDeadLetters(unsent, link.peer?.info?.address || link.address, reason, this.deadLetters);
    this.counters.drops['link-closed'] += lost;
    this.view.linkClosed(link);
    this.sequencer.onLinkClosed(link);
    this.wakeWriters();
    this.directory.linkClosed(link.peerId);
    if (link.has(Cap.PRESENCE)) this.emitPresence({ kind: 'origin-lost', origin: link.peerId });
    this.log.info({ peer: link.peerId, node: link.nodeId, reason, lost }, 'mesh link closed');
    this.onMembersChanged?.();
  }

  private open(link: MeshLink, hello: Hello): void {
    link.peer = hello;
    link.caps = this.identity.caps & hello.caps;
    link.version = Math.min(PROTOCOL_VERSION, hello.version);
    link.state = 'open';
    const node = this.nodeCounters(link.nodeId);
    node.framesIn += link.counters.framesIn;
    node.bytesIn += link.counters.bytesIn;
    node.framesOut += link.counters.framesOut;
    node.bytesOut += link.counters.bytesOut;
    link.counters = node;
    this.links.set(hello.instanceId, link);
    this.openLinks = [...this.links.values()];
    this.counters.linksOpened++;
    if (hello.info !== null && hello.info.address !== '') this.directory.linkedVia(hello.instanceId, hello.info.address);
    this.viewGeneration++;
    this.routeGeneration++;
    this.sequencer.onLinkOpen(link);
    this.sendBurst(link);
    this.view.linkOpened(link);
    if (this.draining) link.send(FrameType.DRAIN, 0, null, null);
    if (this.intakePaused) link.pauseReading();
    this.sequencer.onViewChange();
    this.log.info({ peer: hello.instanceId, node: link.nodeId, role: link.role }, 'mesh link open');
    this.onMembersChanged?.();
  }

  /** §4 post-handshake burst: RESYNC, PeerAnnounce, PeerList, PresenceFull. */
  private sendBurst(link: MeshLink): void {
    this.sendResync(link);
    link.resyncAt = Date.now() + this.tuning.resyncIntervalMs;
    if (this.identity.address !== '') link.send(FrameType.PEER_ANNOUNCE, 0, Buffer.from(this.identity.address), null);
    const known = new Set(this.directory.addresses());
    for (const l of this.openLinks) if (l !== link && l.peer?.info?.address) known.add(l.peer.info.address);
    known.delete(link.peer?.info?.address ?? '');
    if (known.size > 0) link.send(FrameType.PEER_LIST, 0, null, encodePeerList([...known]));
    if (link.has(Cap.PRESENCE) && this.presenceSnapshot !== null) {
      for (const chunk of buildPresenceFull(this.presenceSnapshot())) link.send(FrameType.PRESENCE_FULL, 0, null, chunk);
    }
  }

  private sendResync(link: MeshLink): void {
    if (!link.has(Cap.INTEREST_ROUTING)) return;
    const { chunks, skipped } = buildResync(this.interest.topics());
    this.counters.drops['resync-skipped'] += skipped;
    for (const c of chunks) link.send(FrameType.RESYNC, c.continuation ? Flag.CONTINUATION : 0, null, c.payload);
  }

  // ---- frames on open links ----

  private onMsg(link: MeshLink, view: FrameView): void {
    const topic = link.topics.decode(view.buf, view.topicStart, view.topicLen);
    if (topic === null) return link.close('bad-utf8');
    let payload: Buffer | null;
    if ((view.flags & Flag.COMPRESSED) !== 0) payload = decompressCapped(view.payload());
    else payload = view.payloadCopy();
    if (payload === null || !isUtf8(payload)) {
      this.counters.badFrames++;
      return link.close('bad-payload');
    }
    if (view.hasTrailer && this.options.recovery) {
      this.sequencer.onStampedMsg(topic, view.epoch, view.offset, link.peerId);
      this.deliver(topic, payload, view.epoch, view.offset, link.peerId);
      return;
    }
    if (this.onUnstamped === null) return;
    try {
      this.onUnstamped(topic, payload, link.peerId);
    } catch {
      this.counters.drops['deliver-error']++;
    }
  }

  private onSubUnsub(link: MeshLink, view: FrameView): void {
    const topic = link.topics.decode(view.buf, view.topicStart, view.topicLen);
    if (topic === null) return link.close('bad-utf8');
    if (link.interest === null) link.interest = new InterestSet();
    if (view.type === FrameType.SUB) link.interest.add(topic);
    else link.interest.remove(topic);
    this.routeGeneration++;
  }

  private onResync(link: MeshLink, view: FrameView): void {
    const payload = view.payload();
    if (!isUtf8(payload)) return link.close('bad-utf8');
    // §6 and §12 note 5: flag 0 replaces (also ending a DRAIN's explicit empty set), CONTINUATION extends.
    if ((view.flags & Flag.CONTINUATION) === 0 || link.interest === null) link.interest = new InterestSet();
    for (const t of parseResync(payload)) link.interest.add(t);
    this.routeGeneration++;
  }

  private onPeerAnnounce(link: MeshLink, view: FrameView): void {
    const address = view.buf.toString('utf8', view.topicStart, view.topicStart + view.topicLen);
    if (!this.learnGossip(address)) return;
    // §9: forward a new address on every other link, never back to its source.
    const t = Buffer.from(address, 'utf8');
    for (const l of this.openLinks) if (l !== link) l.send(FrameType.PEER_ANNOUNCE, 0, t, null);
  }

  /** §9: a new literal `IP:port`, not ours and not known, is dialed. */
  private learnGossip(address: string): boolean {
    if (!isLiteralAddress(address) || address === this.identity.address) return false;
    for (const l of this.openLinks) if (l.peer?.info?.address === address) return false;
    return this.directory.learn(address, 'gossip');
  }

  private onPeerDrain(link: MeshLink): void {
    link.peerDraining = true;
    link.interest = new InterestSet();
    this.viewGeneration++;
    this.routeGeneration++;
    this.sequencer.onViewChange();
    this.onMembersChanged?.();
  }

  private onPresenceFrame(link: MeshLink, view: FrameView): void {
    if (!link.has(Cap.PRESENCE) || this.options.presence !== true) return;
    const origin = link.peerId;
    if (view.type === FrameType.PRESENCE_UPDATE) {
      const topic = link.topics.decode(view.buf, view.topicStart, view.topicLen);
      const u = decodePresenceUpdate(view.payload());
      if (topic === null || u === null) return link.close('bad-presence');
      const action = u.action === PresenceAction.JOIN ? 'join' : u.action === PresenceAction.LEAVE ? 'leave' : 'update';
      return this.emitPresence({ kind: action, origin, topic, user: u.user, data: parseData(u.data), updatedAt: u.updatedAt });
    }
    const entries = parsePresenceFull(view.payload());
    if (entries === null) return link.close('bad-presence');
    for (const e of entries) this.emitPresence({ kind: 'full', origin, ...e });
  }

  private emitPresence(event: PresenceEvent): void {
    if (this.onPresence === null) return;
    try {
      this.onPresence(event);
    } catch {
      this.counters.drops['deliver-error']++;
    }
  }

  // ---- helpers ----

  private deliver(topic: string, stamped: Buffer, epoch: number, offset: number, origin: string): void {
    const fn = this.onDeliver;
    if (fn === null) return;
    try {
      fn(topic, stamped, epoch, offset, origin);
    } catch (err) {
      if (this.counters.drops['deliver-error']++ === 0) this.log.error({ err }, 'mesh: onDeliver threw');
    }
  }

  /** §E.a candidates: this member unless draining, plus every non-draining SEQUENCER peer. */
  private candidates(): string[] {
    const ids: string[] = [];
    for (const l of this.openLinks) if (l.has(Cap.SEQUENCER) && !l.peerDraining) ids.push(l.peerId);
    const selfCan = (this.identity.caps & Cap.SEQUENCER) !== 0;
    // A draining member left alone keeps sequencing: nobody else could.
    if (selfCan && (!this.draining || ids.length === 0)) ids.push(this.instanceId);
    return ids;
  }

  private nodeCounters(nodeId: string): TrafficCounters {
    let c = this.nodes.get(nodeId);
    if (c === undefined) {
      c = newTrafficCounters();
      this.nodes.set(nodeId, c);
    }
    return c;
  }

  /** §5 heartbeat, §E.b.6 (paused links are not timed out) and the 60 s RESYNC. */
  private tick(): void {
    const now = Date.now();
    for (const link of this.openLinks) {
      if (!link.readPaused && now - link.lastActivity > this.tuning.deadAfterMs) {
        this.counters.deadPeers++;
        link.close('dead-peer');
        continue;
      }
      link.pingSentAt = now;
      link.send(FrameType.PING, 0, null, null);
      if (now >= link.resyncAt) {
        this.sendResync(link);
        link.resyncAt = now + this.tuning.resyncIntervalMs;
      }
    }
  }

  private async publishUnstamped(topic: string, body: Buffer): Promise<null> {
    const t = Buffer.from(topic, 'utf8');
    if (t.length === 0 || t.length > 65535 || body.length + t.length + 8 > 1_048_576) {
      throw new MeshError('WSE_ERR_MESH_OVERSIZE', 'message does not fit a mesh frame', { topic });
    }
    for (;;) {
      if (this.state !== 'started') throw new MeshError('WSE_ERR_MESH_STOPPED', 'mesh member stopped');
      const targets = this.openLinks.filter((l) => wants(l, topic));
      if (!targets.some((l) => l.out.full)) {
        this.onUnstamped?.(topic, body, this.instanceId);
        for (const l of targets) l.send(FrameType.MSG, 0, t, body);
        return null;
      }
      // §E.b.3: wait until a link drains below its low-water mark or closes.
      await new Promise<void>((resolve) => this.writableWaiters.push(resolve));
    }
  }

  private async settleOutstanding(maxMs: number): Promise<void> {
    const deadline = Date.now() + maxMs;
    while (this.sequencer.creditsOutstanding > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  }
}

/** §6 forwarding decision, plus §11 DRAIN: a draining peer gets no new MSGs. */
function wants(link: MeshLink, topic: string): boolean {
  if (link.peerDraining) return false;
  return link.interest === null || link.interest.matches(topic);
}

function parseData(text: string): unknown {
  if (text.length === 0) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

/** Default advertised host: the listen host, or the first external IPv4 when listening on any. */
function advertiseHost(host: string): string {
  if (host !== '0.0.0.0' && host !== '::' && host !== '') return host;
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}
