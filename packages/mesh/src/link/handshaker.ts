import type { Socket } from 'node:net';
import { Cap, FrameType } from '../frame/constants.js';
import type { FrameView } from '../frame/decoder.js';
import { decodeHello, encodeHello, HelloRefusal, type Hello } from '../frame/payloads.js';
import type { PeerDirectory } from '../membership/peer-directory.js';
import type { MemberCounters } from '../metrics.js';
import type { MeshLogger, MeshTuning } from '../options.js';
import { formatAddress } from './address.js';
import { buildHello, dialerWins, verifyHello, type LocalIdentity } from './handshake.js';
import { MeshLink, type LinkHost } from './mesh-link.js';
import { dial, type TlsMaterial } from './transport.js';

export interface HandshakeHost {
  isStarted(): boolean;
  readonly linkHost: LinkHost;
  isLinked(instanceId: string): boolean;
  peerCount(): number;
  /** The handshake succeeded: the link is the member's now. */
  open(link: MeshLink, hello: Hello): void;
}

/**
 * Link set-up, MESH.md §4 with §E.c (dial-back) and §E.d (cluster secret): dials and accepts
 * sockets, exchanges HELLO, applies the checks in order, and hands surviving links to the member.
 */
export class Handshaker {
  readonly pending = new Set<MeshLink>();

  constructor(
    private readonly host: HandshakeHost,
    private readonly identity: LocalIdentity,
    private readonly tls: TlsMaterial | null,
    private readonly tuning: MeshTuning,
    private readonly directory: PeerDirectory,
    private readonly counters: MemberCounters,
    private readonly log: MeshLogger,
  ) {}

  dial(address: string): void {
    if (!this.host.isStarted()) return;
    dial(address, this.tls, this.tuning.connectTimeoutMs).then(
      (socket) => {
        if (!this.host.isStarted()) return void socket.destroy();
        const link = this.adopt(socket, 'dialer', address);
        link.send(FrameType.HELLO, 0, null, this.hello());
      },
      () => {
        this.counters.handshakeFailures++;
        this.directory.dialFailed(address);
      },
    );
  }

  /** §1: at most `maxPendingAccepts` inbound handshakes and `maxPeers` links; extra accepts are closed. */
  accept(socket: Socket): void {
    const t = this.tuning;
    if (!this.host.isStarted() || this.pending.size >= t.maxPendingAccepts || this.host.peerCount() >= t.maxPeers) {
      this.counters.acceptsRefused++;
      socket.destroy();
      return;
    }
    this.adopt(socket, 'acceptor', formatAddress(socket.remoteAddress ?? '?', socket.remotePort ?? 0));
  }

  /** The first frame on a link must be a valid HELLO. */
  onFrame(link: MeshLink, view: FrameView): void {
    if (view.type !== FrameType.HELLO) return link.close('bad-hello');
    const hello = decodeHello(view.payload(), Cap.MEMBER_INFO, Cap.AUTH);
    if (typeof hello === 'string') return link.close(hello);
    const verdict = verifyHello(this.identity, hello, Date.now());
    if (verdict !== 'ok') {
      if (verdict === 'auth') this.counters.authFailures++;
      this.log.warn({ address: link.address, peer: hello.instanceId, verdict }, 'mesh: HELLO refused');
      return link.close(verdict);
    }
    if (link.role === 'acceptor') this.acceptorChecks(link, hello);
    else this.dialerChecks(link, hello);
  }

  /** A link closed before its handshake finished: a failure for the dialer's address (§11). */
  onClosed(link: MeshLink): boolean {
    if (link.handshakeTimer !== null) clearTimeout(link.handshakeTimer);
    if (!this.pending.delete(link)) return false;
    this.counters.handshakeFailures++;
    if (link.role === 'dialer' && !link.outcomeReported) this.directory.dialFailed(link.address);
    return true;
  }

  closeAll(): void {
    for (const link of [...this.pending]) link.close('shutdown');
  }

  private hello(refusal: number = HelloRefusal.NONE): Buffer {
    return encodeHello(buildHello(this.identity, Date.now(), refusal));
  }

  private adopt(socket: Socket, role: 'dialer' | 'acceptor', address: string): MeshLink {
    const t = this.tuning;
    const link = new MeshLink(socket, role, address, this.host.linkHost, {
      highWaterBytes: t.highWaterBytes,
      lowWaterBytes: t.lowWaterBytes,
      hardLimitBytes: t.hardLimitBytes,
    });
    this.pending.add(link);
    link.handshakeTimer = setTimeout(() => link.close('hello-timeout'), t.helloTimeoutMs);
    return link;
  }

  private settle(link: MeshLink): void {
    this.pending.delete(link);
    clearTimeout(link.handshakeTimer!);
  }

  private acceptorChecks(link: MeshLink, hello: Hello): void {
    const peerId = hello.instanceId;
    if (peerId === this.identity.instanceId) {
      // A self-connection fails the tiebreak (§4); the reply (§E.c) lets the dialing side see it.
      link.send(FrameType.HELLO, 0, null, this.hello());
      this.settle(link);
      return link.end('self');
    }
    if (!dialerWins(peerId, this.identity.instanceId)) {
      // §E.c dial-back: reply so the dialer knows it lost, then dial its advertised address.
      link.send(FrameType.HELLO, 0, null, this.hello());
      this.settle(link);
      link.end('tiebreak');
      const addr = hello.info?.address ?? '';
      if (addr !== '' && !this.host.isLinked(peerId) && !this.directory.isDialing(addr)) this.directory.dialSoon(addr, peerId);
      return;
    }
    if (this.host.isLinked(peerId)) return this.refuseDuplicate(link, hello);
    link.send(FrameType.HELLO, 0, null, this.hello());
    this.settle(link);
    this.host.open(link, hello);
  }

  /**
   * §4 check 3. A dialer of this implementation gets our HELLO marked DUPLICATE before we close
   * (docs/MESH-EXTENSIONS.md): it learns the address leads to a member it is linked to (another
   * name for it, such as a sibling's loopback address) instead of counting a failure and redialing
   * it. An original dialer would read an unmarked HELLO and open the link: it gets none (§4).
   */
  private refuseDuplicate(link: MeshLink, hello: Hello): void {
    if ((hello.caps & Cap.MEMBER_INFO) === 0) return link.close('duplicate');
    link.send(FrameType.HELLO, 0, null, this.hello(HelloRefusal.DUPLICATE));
    this.settle(link);
    link.end('duplicate');
  }

  private dialerChecks(link: MeshLink, hello: Hello): void {
    const peerId = hello.instanceId;
    if (peerId === this.identity.instanceId) {
      link.outcomeReported = true;
      this.directory.dialReachedSelf(link.address);
      return link.close('self');
    }
    if (hello.refusal === HelloRefusal.DUPLICATE) {
      // Its link with us may still be opening on our side: if so, wait for it, then look again.
      link.outcomeReported = true;
      this.settle(link);
      link.close('duplicate');
      this.directory.dialRefused(link.address, peerId, this.tuning.backoffInitialMs);
      return;
    }
    if (!dialerWins(this.identity.instanceId, peerId)) {
      // §E.c: no failure; wait for the dial-back (or, from an original member, stop dialing).
      link.outcomeReported = true;
      this.settle(link);
      link.close('tiebreak');
      const hold = (hello.caps & Cap.MEMBER_INFO) !== 0 ? this.tuning.tiebreakHoldMs : null;
      this.directory.dialRefused(link.address, peerId, hold);
      return;
    }
    link.outcomeReported = true;
    this.directory.dialSucceeded(link.address, peerId);
    // Linked already through another address: this one is another name for the same member.
    if (this.host.isLinked(peerId)) return link.close('duplicate');
    this.settle(link);
    this.host.open(link, hello);
  }
}
