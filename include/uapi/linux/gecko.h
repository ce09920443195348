/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * Gecko: one IPv6 address served by a group of nodes.
 *
 * Documentation
 * =============
 *
 * gecko.ko speaks a generic netlink family named GECKO_GENL_NAME, version
 * GECKO_GENL_VERSION. The family is per network namespace: every command
 * acts on the namespace of the socket that sends it, and needs
 * CAP_NET_ADMIN in the user namespace that owns that network namespace
 * (GENL_UNS_ADMIN_PERM). The root of a user namespace that owns its
 * network namespace may therefore use it.
 *
 * Every request is validated strictly: unknown attributes, attributes that
 * a command does not take, wrong lengths and unknown flag bits are refused
 * with -EINVAL, numbers and lengths outside their range with -ERANGE, each
 * with an extended-ACK message naming the attribute.
 *
 * GECKO_CMD_GET_INFO
 * ------------------
 *
 * Reports what the module is and what it has done in this namespace.
 * Requires NLM_F_REQUEST; takes no attributes. The reply carries:
 *
 *    GECKO_A_MODULE_VERSION: NLA_NUL_STRING, the module's release, as in
 *                            /sys/module/gecko/version
 *    GECKO_A_PROTOCOL_VERSION: NLA_U32, GECKO_GENL_VERSION of the module;
 *                              a client built against an older header
 *                              still understands every attribute it knows
 *    GECKO_A_FEATURES: NLA_U64, bitmask of enum gecko_feature: optional
 *                      capabilities this module offers
 *    GECKO_A_COUNTERS: NLA_NESTED, one NLA_U64 per counter of this network
 *                      namespace, its attribute type being an enum
 *                      gecko_counter value; types a client does not know
 *                      are counters added by a newer module
 *
 * Counters (enum gecko_counter) count since the namespace first used the
 * module (they start at zero when the namespace is created or the module
 * is loaded) and never decrease:
 *
 *    GECKO_COUNTER_NL_REQUESTS: gecko commands this namespace received
 *                               that passed the permission check
 *    GECKO_COUNTER_NL_ERRORS: of those, how many failed
 *    GECKO_COUNTER_BINDINGS_EXPIRED: bindings removed because their
 *                                    lifetime ran out
 *    GECKO_COUNTER_RH2_IN: packets from a bound client whose type 2
 *                          routing header was removed, delivered to G
 *    GECKO_COUNTER_RH2_TRUNCATED, _BAD_LENGTH, _BAD_SEGMENTS,
 *    _BAD_ADDRESS: packets to a service's care-of address dropped for a
 *                  malformed type 2 routing header (a header cut short,
 *                  Hdr Ext Len not 2, Segments Left not 1, a home address
 *                  that is not unicast)
 *    GECKO_COUNTER_RH2_NO_BINDING: well-formed type 2 routing headers
 *                                  dropped because the sender is neither
 *                                  bound here nor the service's home agent
 *    GECKO_COUNTER_HAO_OUT: packets from G that left from the care-of
 *                           address with a Home Address option
 *    GECKO_COUNTER_HAO_FAILED: packets from G to a bound client dropped
 *                              because the option could not be added or
 *                              no route leads from the care-of address
 *    GECKO_COUNTER_MSS_CLAMPED: TCP SYNs to G whose MSS option was
 *                               lowered so that segments carrying the
 *                               Home Address option still fit the path
 *    GECKO_COUNTER_HAO_IN_DROPPED: packets to a service's care-of address
 *                                  or to G dropped because they carry a
 *                                  Home Address option: a node is never a
 *                                  mobile node's correspondent
 *    GECKO_COUNTER_ICMP_ERR_IN: ICMPv6 errors to a service's care-of
 *                               address about a packet that left from it
 *                               with a Home Address option for G, made
 *                               into errors about G's packet so that they
 *                               reach G's socket; a Packet Too Big then
 *                               reports 24 octets less, never below 1280
 *    GECKO_COUNTER_FLOW_HELD: packets for a frozen or restoring
 *                             connection held back
 *    GECKO_COUNTER_FLOW_HELD_DROPPED: of those, how many were dropped: past
 *                                     GECKO_SOCK_HELD_MAX or the
 *                                     namespace's limit of held packets,
 *                                     or still held when the connection
 *                                     was dropped
 *    GECKO_COUNTER_FLOW_HELD_LIMITED: of those dropped, how many because
 *                                     the namespace held as many packets
 *                                     as GECKO_LIMITS_A_HELD allows
 *    GECKO_COUNTER_FLOW_REINJECTED: held packets delivered at the thaw
 *    GECKO_COUNTER_FLOW_OUT_DROPPED: packets a frozen socket sent, dropped
 *    GECKO_COUNTER_FLOW_MOVED_DROPPED: packets for a connection dropped
 *                                      here (handed off), dropped rather
 *                                      than answered with a reset
 *    GECKO_COUNTER_FLOW_FORWARDED: packets of a connection handed off from
 *                                  here sent on to its acceptor
 *    GECKO_COUNTER_FWD_IN: packets a donor sent on, delivered here to G
 *    GECKO_COUNTER_FWD_IN_DROPPED: packets inside an IPv6 header to a
 *                                  service's care-of address (not from its
 *                                  home agent) dropped: malformed, or not
 *                                  from the donor of a connection restored
 *                                  here, or not of that connection
 *    GECKO_COUNTER_PROBES_SENT: segments GECKO_CMD_SOCK_PROBE sent
 *    GECKO_COUNTER_PROBE_ANSWERS: segments of probed connections taken
 *                                 (and dropped) as answers
 *    GECKO_COUNTER_FENCED: guarded connections whose program died, ended
 *                          without a word (GECKO_CMD_SOCK_GUARD)
 *    GECKO_COUNTER_ACKS_LOWERED: acknowledgements to a recovered
 *                                connection of octets its dead member
 *                                had sent and it had not yet, lowered to
 *                                what it sent (GECKO_CMD_SOCK_RESTORE)
 *    GECKO_COUNTER_FLOW_EXPIRED: frozen connections the module thawed, or
 *                                restored or committed ones it dropped, at
 *                                their timeout
 *
 * Addresses are NLA_BINARY of exactly 16 octets (struct in6_addr), global
 * or unique-local unicast: never unspecified, loopback, link-local or
 * multicast.
 *
 * GECKO_CMD_SERVICE_SET
 * ---------------------
 *
 * Makes this node serve a global address G: the seed's mip6_addr_passive,
 * and with GECKO_SERVICE_F_CONTACT its mip6_addr_active. Creates the
 * service, or replaces every field of the existing one for the same
 * GECKO_SERVICE_A_HOME; its bindings are kept. Requires NLM_F_REQUEST.
 *
 *    GECKO_A_SERVICE: NLA_NESTED
 *        GECKO_SERVICE_A_HOME: address, required: G, the service's address
 *        GECKO_SERVICE_A_COA: address, required: this node's care-of
 *                             address, where clients are handed to it
 *        GECKO_SERVICE_A_CONTACT_COA: address, required: the contact
 *                                     node's care-of address
 *        GECKO_SERVICE_A_HA: address: the home agent; required with
 *                            GECKO_SERVICE_F_CONTACT
 *        GECKO_SERVICE_A_FLAGS: NLA_U32, enum gecko_service_flag:
 *            GECKO_SERVICE_F_CONTACT: this node is the contact node,
 *                                     registered with the home agent
 *
 * GECKO_CMD_SERVICE_DEL
 * ---------------------
 *
 * Stops serving G and drops all its bindings. Requires NLM_F_REQUEST.
 *
 *    GECKO_A_SERVICE: NLA_NESTED
 *        GECKO_SERVICE_A_HOME: address, required
 *
 * GECKO_CMD_SERVICE_GET
 * ---------------------
 *
 * With NLM_F_DUMP, one message per service, each with a GECKO_A_SERVICE
 * nest carrying every GECKO_SERVICE_A_* attribute that is set, and
 * GECKO_SERVICE_A_BINDINGS: NLA_U32, how many bindings it has. Without
 * NLM_F_DUMP, the same for the service named by GECKO_SERVICE_A_HOME in a
 * GECKO_A_SERVICE nest.
 *
 * GECKO_CMD_BINDING_SET
 * ---------------------
 *
 * Records this node's binding for one client of a service: the seed's
 * mip6_handoff bookkeeping. Creates the binding or replaces its fields.
 * Requires NLM_F_REQUEST.
 *
 *    GECKO_A_BINDING: NLA_NESTED
 *        GECKO_BINDING_A_HOME: address, required: G; the service must exist
 *        GECKO_BINDING_A_PEER: address, required: the client
 *        GECKO_BINDING_A_STATE: NLA_U8, required, enum gecko_binding_state:
 *            GECKO_BINDING_PENDING: a Binding Update to this node's care-of
 *                                   address is on its way to the client
 *            GECKO_BINDING_BOUND: the client sends to this node
 *        GECKO_BINDING_A_SEQ: NLA_U16, required: the sequence number of
 *                             the client's most recent Binding Update
 *        GECKO_BINDING_A_LIFETIME: NLA_U32, required, 1..420 seconds
 *                                  (RFC 6275 MAX_RR_BINDING_LIFETIME): the
 *                                  binding is removed when it expires
 *
 * GECKO_CMD_BINDING_DEL
 * ---------------------
 *
 * Forgets a binding (the seed's mip6_handoff_clear, for the kernel's part).
 * Requires NLM_F_REQUEST.
 *
 *    GECKO_A_BINDING: NLA_NESTED
 *        GECKO_BINDING_A_HOME: address, required
 *        GECKO_BINDING_A_PEER: address, required
 *
 * GECKO_CMD_BINDING_GET
 * ---------------------
 *
 * With NLM_F_DUMP, one message per binding (optionally only those of the
 * service named by GECKO_BINDING_A_HOME in a GECKO_A_BINDING nest); without
 * it, the binding named by GECKO_BINDING_A_HOME and GECKO_BINDING_A_PEER.
 * Each reply has a GECKO_A_BINDING nest with every GECKO_BINDING_A_*
 * attribute; GECKO_BINDING_A_LIFETIME is then the seconds left. A dump
 * interrupted by changes to the table is flagged with NLM_F_DUMP_INTR, as
 * usual: entries may then be missing or repeated.
 *
 * Sockets
 * =======
 *
 * A TCP connection of G moves between nodes as a state (the format at the
 * end of this header). Every socket command acts on a socket the calling
 * process owns, named by its file descriptor in GECKO_SOCK_A_FD: an IPv6
 * TCP socket of this namespace whose local address is G of a service.
 * While a connection is frozen or being restored, the module holds back
 * the packets that arrive for it (up to GECKO_SOCK_HELD_MAX of them, and
 * no more than the namespace's GECKO_LIMITS_A_HELD in all) and drops
 * those its socket would send; the owner's recv() and send() fail (TCP
 * repair mode). Each such connection is a *flow* of the module, named by
 * its four addresses and ports, in one of the states of enum
 * gecko_flow_state:
 *
 *    GECKO_FLOW_FROZEN: frozen by GECKO_CMD_SOCK_FREEZE; its state has not
 *                       left (as far as the module knows)
 *    GECKO_FLOW_COMMITTED: frozen, and its owner said with
 *                          GECKO_CMD_SOCK_COMMIT that its state left for
 *                          an acceptor
 *    GECKO_FLOW_RESTORING: restored by GECKO_CMD_SOCK_RESTORE, its queues
 *                          still coming
 *    GECKO_FLOW_RESTORED: restored whole, frozen until the thaw
 *    GECKO_FLOW_MOVED: its socket was dropped here; for
 *                      GECKO_SOCK_MOVED_TIMEOUT its packets are passed on
 *                      to the acceptor or dropped, never answered
 *    GECKO_FLOW_ARRIVED: restored here and thawed, with a donor or from a
 *                        snapshot; for GECKO_SOCK_MOVED_TIMEOUT what that
 *                        donor passes on for it is still taken, and what
 *                        the client of a recovered one acknowledges past
 *                        what its socket sent is lowered to it
 *                        ("Recovery"). It holds and blocks nothing.
 *    GECKO_FLOW_PROBING: a connection this node has no socket for, probed
 *                        by GECKO_CMD_SOCK_PROBE: the segments that arrive
 *                        for it are answers, noted and dropped
 *
 * A freeze or restore of a connection whose flow is MOVED, ARRIVED or
 * PROBING replaces that flow.
 *
 * One owner per connection. The module thaws a socket by itself only
 * while its flow is FROZEN: at its timeout, and when its service, the
 * namespace or the module goes, a FROZEN socket resumes where it was
 * (nobody else has its state). Once COMMITTED it never does: its state
 * may be running elsewhere, so at its timeout, or when its service, the
 * namespace or the module goes, it is dropped silently, as
 * GECKO_CMD_SOCK_DROP without GECKO_SOCK_A_FORWARD drops it. Only its
 * owner may still thaw it (GECKO_CMD_SOCK_THAW, having learnt that the
 * acceptor gave the connection up) or drop it. A restored socket the
 * module drops, never thaws, in the same cases.
 *
 * At the thaw, the packets held for a connection reach its socket before
 * any packet that arrives after them: until the last held one is
 * delivered, new ones queue behind.
 *
 * GECKO_CMD_SOCK_FREEZE
 * ---------------------
 *
 * Freezes an established (or half-closed) connection for capture: the
 * donor's first step. Its timers stop; nothing leaves or reaches it.
 * Fails with -ENOSPC once the namespace has GECKO_LIMITS_A_FLOWS flows.
 *
 *    GECKO_A_SOCK: NLA_NESTED
 *        GECKO_SOCK_A_FD: NLA_U32, required
 *        GECKO_SOCK_A_TIMEOUT: NLA_U32, milliseconds, 100..600000,
 *                              default GECKO_SOCK_TIMEOUT_DEFAULT: if the
 *                              flow is neither thawed, committed nor
 *                              dropped by then, the module thaws it itself
 *                              (the donor keeps serving)
 *
 * GECKO_CMD_SOCK_CAPTURE
 * ----------------------
 *
 * With NLM_F_DUMP only. For a frozen (or committed) socket, named by
 * GECKO_SOCK_A_FD in a GECKO_A_SOCK nest: its whole state, header and
 * queues, in messages of GECKO_A_SOCK nests carrying GECKO_SOCK_A_DATA,
 * consecutive pieces of the state, the first also GECKO_SOCK_A_LENGTH
 * (NLA_U32), the whole state's length. For any established connection of
 * G, named by GECKO_SOCK_A_LOCAL, _LOCAL_PORT, _REMOTE and _REMOTE_PORT
 * instead: a read-only snapshot, the header alone with
 * GECKO_TCP_STATE_F_SNAPSHOT (sequence numbers, windows, options,
 * offsets; the queues' lengths but not their octets), in one message. The
 * connection is not disturbed.
 *
 * GECKO_CMD_SOCK_COMMIT
 * ---------------------
 *
 * The donor's word that the state of its frozen socket has left for an
 * acceptor, which may serve the connection from now on: the flow becomes
 * COMMITTED, and the module will never thaw it by itself (see "One owner
 * per connection" above). Committing a committed socket again sets its
 * new deadline.
 *
 *    GECKO_A_SOCK: NLA_NESTED
 *        GECKO_SOCK_A_FD: NLA_U32, required
 *        GECKO_SOCK_A_TIMEOUT: NLA_U32, milliseconds from now, 100..600000,
 *                              default GECKO_SOCK_TIMEOUT_DEFAULT: if the
 *                              flow is neither thawed nor dropped by then,
 *                              the module drops it silently
 *        GECKO_SOCK_A_FORWARD: address (GECKO_FEATURE_PASS_ON): the care-of
 *                              address of the acceptor, once it restored
 *                              the connection. A copy of every packet held
 *                              for the connection, those held already
 *                              first, goes there as GECKO_CMD_SOCK_DROP's
 *                              would, so that the acceptor has the
 *                              client's octets when it thaws; the packets
 *                              themselves stay held, for a thaw here if
 *                              the acceptor gives the connection up. A
 *                              later GECKO_CMD_SOCK_DROP does not send
 *                              them again.
 *
 * Fails with -EBUSY for a socket being restored here, or whose packets
 * go to another acceptor already; with -EADDRNOTAVAIL, with
 * GECKO_SOCK_A_FORWARD, if G has no service here to send them from.
 *
 * GECKO_CMD_SOCK_RESTORE
 * ----------------------
 *
 * Makes a fresh TCP socket of the caller (AF_INET6, never bound or
 * connected) into the captured connection, frozen: the acceptor's step.
 * No packet is sent. The octets of the queues follow with
 * GECKO_CMD_SOCK_RESTORE_DATA.
 *
 *    GECKO_A_SOCK: NLA_NESTED
 *        GECKO_SOCK_A_FD: NLA_U32, required
 *        GECKO_SOCK_A_DATA: NLA_BINARY, required: the state's header alone
 *                           (hdr_len octets), or a snapshot: see
 *                           "Recovery" below
 *        GECKO_SOCK_A_TIMEOUT: as for GECKO_CMD_SOCK_FREEZE, but a flow
 *                              still frozen then is dropped, not thawed
 *        GECKO_SOCK_A_DONOR: address: the donor's care-of address. The
 *                            packets of this connection that the donor
 *                            passes on inside an IPv6 header (see
 *                            GECKO_CMD_SOCK_DROP) are taken out of it and
 *                            delivered to G while the flow is RESTORING or
 *                            RESTORED, and, once thawed, while it is
 *                            ARRIVED. Only from that address, and only the
 *                            TCP segments of this connection (from the
 *                            client to G, with its ports). Without it,
 *                            nothing passed on is taken.
 *
 * Fails with -EEXIST if the connection exists here already, -EADDRNOTAVAIL
 * if G is not an address of this node, -ENOSPC once the namespace has
 * GECKO_LIMITS_A_FLOWS flows.
 *
 * GECKO_CMD_SOCK_RESTORE_DATA
 * ---------------------------
 *
 * The next octets, at most GECKO_SOCK_DATA_MAX per message, of the
 * receive queue (inq_len of them) and then of the send queue (outq_len),
 * as the state has them. When the last one is in, the connection is
 * restored, still frozen. The part of the send queue that was sent is
 * queued as sent; the module keeps the unsent rest (unsq_len) for the
 * thaw.
 *
 *    GECKO_A_SOCK: NLA_NESTED
 *        GECKO_SOCK_A_FD: NLA_U32, required
 *        GECKO_SOCK_A_DATA: NLA_BINARY, required, 1..GECKO_SOCK_DATA_MAX
 *                           octets, no more than the queues still expect
 *
 * GECKO_CMD_SOCK_THAW
 * -------------------
 *
 * Ends the freeze of a frozen, committed or fully restored socket: the
 * connection resumes (a window probe asks the peer for its state), the
 * packets held for it are delivered, in order and before any later one,
 * and its retransmission timer runs again with the RTT estimate it had.
 * GECKO_A_SOCK with GECKO_SOCK_A_FD, required. A restored socket first
 * gets what its donor's application had done that its kernel had not: the
 * unsent octets, queued whatever the send buffer's size, then the FIN if
 * GECKO_TCP_STATE_F_FIN_OUT is set. If they cannot be queued (-ENOBUFS,
 * -ENOMEM) the connection is reset, not cut short. A restored flow with a
 * donor stays ARRIVED for GECKO_SOCK_MOVED_TIMEOUT; any other is gone.
 *
 * GECKO_CMD_SOCK_DROP
 * -------------------
 *
 * Closes a frozen, committed or restored socket without a word to the
 * peer (no FIN, no RST): the donor's last step once the acceptor serves
 * the connection, or the acceptor's on a failed handoff. The socket
 * reports ECONNABORTED to its owner, who closes it. For
 * GECKO_SOCK_MOVED_TIMEOUT afterwards the packets of the connection that
 * still arrive here are not answered with a reset: with
 * GECKO_SOCK_A_FORWARD, they go on to the acceptor, and so do those held
 * while the socket was frozen; without it, they are dropped.
 *
 *    GECKO_A_SOCK: NLA_NESTED
 *        GECKO_SOCK_A_FD: NLA_U32, required
 *        GECKO_SOCK_A_FORWARD: address: the acceptor's care-of address. A
 *                              packet goes there inside an IPv6 header
 *                              from this node's care-of address (RFC 2473),
 *                              its checksums finished; the acceptor's
 *                              module takes it out when it restored the
 *                              connection with this node as
 *                              GECKO_SOCK_A_DONOR. For a socket committed
 *                              with GECKO_SOCK_A_FORWARD, the same address
 *                              or -EBUSY; without it, its packets are
 *                              dropped from now on.
 *
 * GECKO_CMD_SOCK_GET
 * ------------------
 *
 * With NLM_F_DUMP, one message per flow, each with a GECKO_A_SOCK nest:
 * GECKO_SOCK_A_LOCAL, _LOCAL_PORT, _REMOTE, _REMOTE_PORT, GECKO_SOCK_A_FLOW
 * (NLA_U8, enum gecko_flow_state), GECKO_SOCK_A_HELD (NLA_U32, packets
 * held now), GECKO_SOCK_A_TIMEOUT (milliseconds left before the module
 * acts on its own), for a flow restored with one, GECKO_SOCK_A_DONOR,
 * for one whose packets go to an acceptor (COMMITTED and passed on, or
 * MOVED with GECKO_SOCK_A_FORWARD), GECKO_SOCK_A_FORWARD, and for a
 * PROBING flow GECKO_SOCK_A_PROBE: GECKO_PROBE_A_SENT, then
 * once a segment answered, that segment's GECKO_PROBE_A_SEQ, _ACK,
 * _WINDOW, _FLAGS, _TSVAL and _TSECR (if it had the timestamps option)
 * and _AGE. The last answer counts.
 *
 * GECKO_CMD_SOCK_PROBE
 * --------------------
 *
 * Asks the peer of a connection of G that this node has no socket for
 * where it stands: the recovery of a connection whose node died. Sends
 * one empty ACK from G to the peer with the numbers given, which should
 * lie outside the peer's window so that its stack must answer with its
 * own (RFC 793: an unacceptable segment gets an ACK; Linux sends one per
 * connection per net.ipv4.tcp_invalid_ratelimit, 500 ms by default, and
 * drops a segment whose timestamp fails PAWS with the same answer). The
 * answer's sequence number is the peer's next to send, its
 * acknowledgement the next it expects from G, and its TSecr the last
 * TSval of G's it accepted. The connection's flow becomes PROBING until
 * the timeout: every segment of it that reaches G here is dropped, never
 * answered with a reset, and an empty ACK (no data, SYN or RST) is taken
 * as the answer (the last one counts, GECKO_CMD_SOCK_GET); the peer's
 * retransmissions of its data are not answers. Probing a PROBING flow again sends again and
 * keeps the answer it had; a restore replaces the flow. The segment
 * leaves as G's others do: with the Home Address option when the peer is
 * bound to this node. Without GECKO_SOCK_A_PROBE nothing is sent: the flow
 * only becomes PROBING (a takeover does so before the peer's traffic
 * comes here, and probes once it does, so that a probe the peer answered
 * elsewhere does not hold back its answer here by the rate limit).
 *
 *    GECKO_A_SOCK: NLA_NESTED
 *        GECKO_SOCK_A_LOCAL, _LOCAL_PORT, _REMOTE, _REMOTE_PORT: the
 *                            connection, required; LOCAL is G of a service
 *        GECKO_SOCK_A_TIMEOUT: milliseconds, 100..600000, default
 *                              GECKO_SOCK_TIMEOUT_DEFAULT: then the flow
 *                              is forgotten
 *        GECKO_SOCK_A_PROBE: NLA_NESTED, the segment to send
 *            GECKO_PROBE_A_SEQ, _ACK: required
 *            GECKO_PROBE_A_WINDOW: default 0
 *            GECKO_PROBE_A_TSVAL, _TSECR: both or neither
 *
 * Fails with -EADDRNOTAVAIL if LOCAL is no service's G, -EBUSY if the
 * connection runs here, -EEXIST if it is frozen or being restored here,
 * -ENOSPC once the namespace has GECKO_LIMITS_A_FLOWS flows, or with the
 * error of the send (-ENETUNREACH...).
 *
 * GECKO_CMD_SOCK_GUARD
 * --------------------
 *
 * Guards the caller's established connection GECKO_SOCK_A_FD (required,
 * nothing else): when the program that holds it dies, the connection must
 * end without a word, so that the member holding its mirror can take it
 * over, instead of the kernel closing it with a FIN (or a reset) the
 * client would take as the end of the stream. The module holds a
 * reference to the socket's file until nobody else does; then, checked
 * every 200 ms:
 *
 *  - if the thread group that guarded it still runs, it closed the
 *    socket, and the module's release closes it as the program asked (its
 *    FIN leaves up to 200 ms later);
 *  - if that thread group died (exited or was killed), the socket is
 *    closed in repair mode, sending nothing, and its flow is MOVED for
 *    GECKO_SOCK_FENCE_TIMEOUT: what its client still sends here is
 *    dropped, never answered with a reset (GECKO_COUNTER_FENCED).
 *
 * A guard goes with its connection's end (its state CLOSE, as after
 * GECKO_CMD_SOCK_DROP); guarding a guarded socket does nothing. A frozen,
 * committed or restored connection's flow decides its fate, not the
 * guard. Guards count against GECKO_LIMITS_A_FLOWS apart from the flows.
 * At module unload the guards are released as if their owners had closed
 * the sockets.
 *
 * Fails with -EADDRNOTAVAIL if the socket's address is no service's G,
 * -ENOTCONN if the connection is not established (or half-closed by the
 * client), -ENOSPC past the limit.
 *
 * Recovery
 * --------
 *
 * A node whose peer died holds snapshots of its connections
 * (GECKO_CMD_SOCK_CAPTURE by addresses and ports), not their queues. It
 * probes each connection until its client answers, then restores it from
 * the snapshot with GECKO_CMD_SOCK_RESTORE: the connection is restored
 * where the last answer says the client stands, not where the snapshot
 * was taken. Every octet the client acknowledged counts as sent, every
 * octet it sent as received, nothing is queued either way (no
 * GECKO_CMD_SOCK_RESTORE_DATA follows: the socket is restored at once);
 * the client's window; a timestamp clock no older than the last TSval of
 * G's it took. tcpi_bytes_acked and tcpi_bytes_received (TCP_INFO) then
 * tell the application where to resume: what the client has, and what it
 * sent. Octets the client sent that the dead node received but its
 * application had not read are lost to it: an application that cannot
 * resume without them resets the connection. The client may also hold
 * octets the dead node sent past a loss, which it acknowledges once the
 * loss is filled: for GECKO_SOCK_MOVED_TIMEOUT after the thaw, and past
 * it while the socket has not sent all the client acknowledged, an
 * acknowledgement past what the restored socket sent is lowered to it
 * (GECKO_COUNTER_ACKS_LOWERED), since TCP would discard it and the
 * connection would never move again. Only an ESTABLISHED
 * snapshot is recovered (-EOPNOTSUPP). Fails with -ENOENT without a
 * PROBING flow for the connection with an answer, -EPROTO if the answer's
 * timestamps option differs from the connection's, -ERANGE if its numbers
 * are behind the snapshot's or more than 2^30 ahead of them.
 *
 * Limits
 * ======
 *
 * What requests may make the module keep is bounded per namespace, and
 * charged to the memory cgroup of the process that asked. A limit counts
 * what exists in the namespace:
 *
 *    GECKO_LIMITS_A_SERVICES: services (default GECKO_LIMIT_SERVICES_DEFAULT,
 *                             at most GECKO_LIMIT_SERVICES_MAX)
 *    GECKO_LIMITS_A_BINDINGS: bindings of all services, those expired but
 *                             not collected yet (2 s at most) included
 *                             (default GECKO_LIMIT_BINDINGS_DEFAULT, at
 *                             most GECKO_LIMIT_BINDINGS_MAX)
 *    GECKO_LIMITS_A_FLOWS: flows in any state (default
 *                          GECKO_LIMIT_FLOWS_DEFAULT, at most
 *                          GECKO_LIMIT_FLOWS_MAX)
 *    GECKO_LIMITS_A_HELD: packets held for all flows together (default
 *                         GECKO_LIMIT_HELD_DEFAULT, at most
 *                         GECKO_LIMIT_HELD_MAX), besides the
 *                         GECKO_SOCK_HELD_MAX of each flow
 *
 * A command that would create one more service, binding or flow than its
 * limit fails with -ENOSPC and an extended-ACK message naming the limit
 * and how to raise it. Replacing one (a service, a binding, a MOVED or
 * ARRIVED flow) creates none. A packet that would be held past
 * GECKO_LIMITS_A_HELD is dropped and counted
 * (GECKO_COUNTER_FLOW_HELD_LIMITED). Lowering a limit below what exists
 * removes nothing: what exists stays, and new ones are refused until
 * fewer remain than the new limit.
 *
 * GECKO_CMD_LIMITS_GET
 * --------------------
 *
 * Requires NLM_F_REQUEST; takes no attributes. The reply carries a
 * GECKO_A_LIMITS nest with the four limits, NLA_U32 each, and what is in
 * use now: GECKO_LIMITS_A_SERVICES_USED, _BINDINGS_USED, _FLOWS_USED and
 * _HELD_USED, NLA_U32 each.
 *
 * GECKO_CMD_LIMITS_SET
 * --------------------
 *
 * Sets the limits given, leaving the others as they are. Requires
 * NLM_F_REQUEST.
 *
 *    GECKO_A_LIMITS: NLA_NESTED, with one or more of
 *        GECKO_LIMITS_A_SERVICES: NLA_U32, 0..GECKO_LIMIT_SERVICES_MAX
 *        GECKO_LIMITS_A_BINDINGS: NLA_U32, 0..GECKO_LIMIT_BINDINGS_MAX
 *        GECKO_LIMITS_A_FLOWS: NLA_U32, 0..GECKO_LIMIT_FLOWS_MAX
 *        GECKO_LIMITS_A_HELD: NLA_U32, 0..GECKO_LIMIT_HELD_MAX
 */

#ifndef _UAPI_LINUX_GECKO_H
#define _UAPI_LINUX_GECKO_H

#define GECKO_GENL_NAME "gecko"
#define GECKO_GENL_VERSION 1

enum gecko_cmd {
	GECKO_CMD_UNSPEC,
	GECKO_CMD_GET_INFO,
	GECKO_CMD_SERVICE_SET,
	GECKO_CMD_SERVICE_DEL,
	GECKO_CMD_SERVICE_GET,
	GECKO_CMD_BINDING_SET,
	GECKO_CMD_BINDING_DEL,
	GECKO_CMD_BINDING_GET,
	GECKO_CMD_SOCK_FREEZE,
	GECKO_CMD_SOCK_CAPTURE,
	GECKO_CMD_SOCK_RESTORE,
	GECKO_CMD_SOCK_RESTORE_DATA,
	GECKO_CMD_SOCK_THAW,
	GECKO_CMD_SOCK_DROP,
	GECKO_CMD_SOCK_GET,
	GECKO_CMD_SOCK_COMMIT,
	GECKO_CMD_LIMITS_GET,
	GECKO_CMD_LIMITS_SET,
	GECKO_CMD_SOCK_PROBE,
	GECKO_CMD_SOCK_GUARD,
	__GECKO_CMD_MAX
};
#define GECKO_CMD_MAX (__GECKO_CMD_MAX - 1)

enum gecko_attr {
	GECKO_A_UNSPEC,
	GECKO_A_PAD,
	GECKO_A_MODULE_VERSION,
	GECKO_A_PROTOCOL_VERSION,
	GECKO_A_FEATURES,
	GECKO_A_COUNTERS,
	GECKO_A_SERVICE,
	GECKO_A_BINDING,
	GECKO_A_SOCK,
	GECKO_A_LIMITS,
	__GECKO_A_LAST
};
#define GECKO_A_MAX (__GECKO_A_LAST - 1)

enum gecko_service_attr {
	GECKO_SERVICE_A_UNSPEC,
	GECKO_SERVICE_A_HOME,
	GECKO_SERVICE_A_COA,
	GECKO_SERVICE_A_CONTACT_COA,
	GECKO_SERVICE_A_HA,
	GECKO_SERVICE_A_FLAGS,
	GECKO_SERVICE_A_BINDINGS,
	__GECKO_SERVICE_A_LAST
};
#define GECKO_SERVICE_A_MAX (__GECKO_SERVICE_A_LAST - 1)

enum gecko_service_flag {
	GECKO_SERVICE_F_CONTACT = 1U << 0,
	__GECKO_SERVICE_F_ALL = GECKO_SERVICE_F_CONTACT
};

enum gecko_binding_attr {
	GECKO_BINDING_A_UNSPEC,
	GECKO_BINDING_A_HOME,
	GECKO_BINDING_A_PEER,
	GECKO_BINDING_A_STATE,
	GECKO_BINDING_A_SEQ,
	GECKO_BINDING_A_LIFETIME,
	__GECKO_BINDING_A_LAST
};
#define GECKO_BINDING_A_MAX (__GECKO_BINDING_A_LAST - 1)

enum gecko_binding_state {
	GECKO_BINDING_UNSPEC,
	GECKO_BINDING_PENDING,
	GECKO_BINDING_BOUND,
	__GECKO_BINDING_STATE_MAX
};
#define GECKO_BINDING_STATE_MAX (__GECKO_BINDING_STATE_MAX - 1)

enum gecko_sock_attr {
	GECKO_SOCK_A_UNSPEC,
	GECKO_SOCK_A_FD,
	GECKO_SOCK_A_TIMEOUT,
	GECKO_SOCK_A_DATA,
	GECKO_SOCK_A_LENGTH,
	GECKO_SOCK_A_LOCAL,
	GECKO_SOCK_A_LOCAL_PORT,
	GECKO_SOCK_A_REMOTE,
	GECKO_SOCK_A_REMOTE_PORT,
	GECKO_SOCK_A_FLOW,
	GECKO_SOCK_A_HELD,
	GECKO_SOCK_A_FORWARD,
	GECKO_SOCK_A_DONOR,
	GECKO_SOCK_A_PROBE,
	__GECKO_SOCK_A_LAST
};
#define GECKO_SOCK_A_MAX (__GECKO_SOCK_A_LAST - 1)

/* A TCP segment's numbers: what a probe sends, and what answered it. */
enum gecko_probe_attr {
	GECKO_PROBE_A_UNSPEC,
	GECKO_PROBE_A_SEQ,	/* NLA_U32 */
	GECKO_PROBE_A_ACK,	/* NLA_U32 */
	GECKO_PROBE_A_WINDOW,	/* NLA_U16, as on the wire (unscaled) */
	GECKO_PROBE_A_TSVAL,	/* NLA_U32, with _TSECR: the timestamps option */
	GECKO_PROBE_A_TSECR,	/* NLA_U32 */
	GECKO_PROBE_A_FLAGS,	/* NLA_U8, the answer's TCP flags (FIN 0x01 ... CWR 0x80) */
	GECKO_PROBE_A_AGE,	/* NLA_U32, milliseconds since the answer came */
	GECKO_PROBE_A_SENT,	/* NLA_U32, probes sent for the flow */
	__GECKO_PROBE_A_LAST
};
#define GECKO_PROBE_A_MAX (__GECKO_PROBE_A_LAST - 1)

enum gecko_flow_state {
	GECKO_FLOW_UNSPEC,
	GECKO_FLOW_FROZEN,	/* frozen by GECKO_CMD_SOCK_FREEZE */
	GECKO_FLOW_RESTORING,	/* restored, its queues still coming */
	GECKO_FLOW_RESTORED,	/* restored, frozen until the thaw */
	GECKO_FLOW_MOVED,	/* dropped here: its packets are dropped */
	GECKO_FLOW_COMMITTED,	/* frozen, its state left: never thawed by the module */
	GECKO_FLOW_ARRIVED,	/* restored and thawed: its donor's packets still taken */
	GECKO_FLOW_PROBING,	/* probed by GECKO_CMD_SOCK_PROBE: its segments answer */
	__GECKO_FLOW_STATE_MAX
};
#define GECKO_FLOW_STATE_MAX (__GECKO_FLOW_STATE_MAX - 1)

#define GECKO_SOCK_TIMEOUT_DEFAULT 10000	/* milliseconds */
#define GECKO_SOCK_MOVED_TIMEOUT 30000		/* milliseconds */
#define GECKO_SOCK_FENCE_TIMEOUT 60000		/* milliseconds */
#define GECKO_SOCK_HELD_MAX 512			/* packets per flow */
#define GECKO_SOCK_DATA_MAX 65000		/* octets per GECKO_SOCK_A_DATA */

enum gecko_limits_attr {
	GECKO_LIMITS_A_UNSPEC,
	GECKO_LIMITS_A_SERVICES,
	GECKO_LIMITS_A_BINDINGS,
	GECKO_LIMITS_A_FLOWS,
	GECKO_LIMITS_A_HELD,
	GECKO_LIMITS_A_SERVICES_USED,
	GECKO_LIMITS_A_BINDINGS_USED,
	GECKO_LIMITS_A_FLOWS_USED,
	GECKO_LIMITS_A_HELD_USED,
	__GECKO_LIMITS_A_LAST
};
#define GECKO_LIMITS_A_MAX (__GECKO_LIMITS_A_LAST - 1)

/*
 * Default limits. Services: a node serves a handful, and the packet path
 * walks them as a list. Bindings: the million clients a node is meant to
 * serve, about 100 MB. Flows: a MOVED one stays GECKO_SOCK_MOVED_TIMEOUT,
 * so 65536 lets a node hand off some 2000 connections a second (about
 * 30 MB of flows). Held packets: 128 flows at GECKO_SOCK_HELD_MAX, about
 * 150 MB of full-size packets, for the tens of milliseconds a handoff
 * holds them.
 */
#define GECKO_LIMIT_SERVICES_DEFAULT 256
#define GECKO_LIMIT_BINDINGS_DEFAULT (1U << 20)
#define GECKO_LIMIT_FLOWS_DEFAULT 65536
#define GECKO_LIMIT_HELD_DEFAULT 65536
#define GECKO_LIMIT_SERVICES_MAX 4096
#define GECKO_LIMIT_BINDINGS_MAX (1U << 22)
#define GECKO_LIMIT_FLOWS_MAX (1U << 20)
#define GECKO_LIMIT_HELD_MAX (1U << 20)

/* RFC 6275 MAX_RR_BINDING_LIFETIME, seconds. */
#define GECKO_BINDING_MAX_LIFETIME 420

/*
 * Optional capabilities, reported in GECKO_A_FEATURES: each later
 * capability (socket handoff, probe) adds its bit here when the module
 * implements it.
 */
enum gecko_feature {
	GECKO_FEATURE_SOCKETS = 1ULL << 0,	/* the GECKO_CMD_SOCK_* commands */
	/* GECKO_CMD_SOCK_COMMIT, GECKO_SOCK_A_DONOR and GECKO_FLOW_ARRIVED */
	GECKO_FEATURE_OWNERSHIP = 1ULL << 1,
	GECKO_FEATURE_LIMITS = 1ULL << 2,	/* GECKO_CMD_LIMITS_GET and _SET */
	GECKO_FEATURE_PROBE = 1ULL << 3,	/* GECKO_CMD_SOCK_PROBE and GECKO_FLOW_PROBING */
	GECKO_FEATURE_GUARD = 1ULL << 4,	/* GECKO_CMD_SOCK_GUARD */
	GECKO_FEATURE_PASS_ON = 1ULL << 5,	/* GECKO_CMD_SOCK_COMMIT with GECKO_SOCK_A_FORWARD */
	__GECKO_FEATURE_ALL = (1ULL << 6) - 1
};

enum gecko_counter {
	GECKO_COUNTER_UNSPEC,
	GECKO_COUNTER_PAD,
	GECKO_COUNTER_NL_REQUESTS,
	GECKO_COUNTER_NL_ERRORS,
	GECKO_COUNTER_BINDINGS_EXPIRED,
	GECKO_COUNTER_RH2_IN,
	GECKO_COUNTER_RH2_TRUNCATED,
	GECKO_COUNTER_RH2_BAD_LENGTH,
	GECKO_COUNTER_RH2_BAD_SEGMENTS,
	GECKO_COUNTER_RH2_BAD_ADDRESS,
	GECKO_COUNTER_RH2_NO_BINDING,
	GECKO_COUNTER_HAO_OUT,
	GECKO_COUNTER_HAO_FAILED,
	GECKO_COUNTER_MSS_CLAMPED,
	GECKO_COUNTER_HAO_IN_DROPPED,
	GECKO_COUNTER_ICMP_ERR_IN,
	GECKO_COUNTER_FLOW_HELD,
	GECKO_COUNTER_FLOW_HELD_DROPPED,
	GECKO_COUNTER_FLOW_REINJECTED,
	GECKO_COUNTER_FLOW_OUT_DROPPED,
	GECKO_COUNTER_FLOW_MOVED_DROPPED,
	GECKO_COUNTER_FLOW_EXPIRED,
	GECKO_COUNTER_FLOW_FORWARDED,
	GECKO_COUNTER_FWD_IN,
	GECKO_COUNTER_FWD_IN_DROPPED,
	GECKO_COUNTER_FLOW_HELD_LIMITED,
	GECKO_COUNTER_PROBES_SENT,
	GECKO_COUNTER_PROBE_ANSWERS,
	GECKO_COUNTER_FENCED,
	GECKO_COUNTER_ACKS_LOWERED,
	__GECKO_COUNTER_LAST
};
#define GECKO_COUNTER_MAX (__GECKO_COUNTER_LAST - 1)

/*
 * The state of a TCP connection, as GECKO_CMD_SOCK_CAPTURE gives it and
 * GECKO_CMD_SOCK_RESTORE takes it: a header, then the unread receive
 * queue (inq_len octets), then the send queue (outq_len octets, of which
 * the last unsq_len were never sent); a snapshot has the header alone.
 * Numbers in network order. A header of a later version keeps these
 * fields where they are and adds after them; hdr_len says how long it is,
 * so a reader skips what it does not know. Offsets in octets:
 *
 *    0 version (16)          GECKO_TCP_STATE_VERSION
 *    2 hdr_len (16)          at least GECKO_TCP_STATE_HDR_LEN
 *    4 flags (32)            enum gecko_tcp_state_flag
 *    8 state (8)             TCP_ESTABLISHED, TCP_FIN_WAIT1/2, TCP_CLOSE_WAIT,
 *                            TCP_LAST_ACK or TCP_CLOSING
 *    9 snd_wscale (8), 10 rcv_wscale (8)   0 to 14, 0 without WSCALE
 *   11 reserved (8), zero
 *   12 mss_clamp (16)
 *   14 reserved (16), zero
 *   16 rcv_nxt (32)          the next sequence number expected from the
 *                            peer (past its FIN, with FIN_IN)
 *   20 write_seq (32)        the sequence number after the last one queued
 *                            (past this side's FIN, with FIN_OUT)
 *   24 inq_len (32)          octets received, not yet read by the application
 *   28 outq_len (32)         octets queued and not acknowledged
 *   32 unsq_len (32)         the part of outq_len never sent
 *   36 ts_val (32)           the timestamp clock (TCP_TIMESTAMP), 0 without TIMESTAMPS
 *   40 snd_wl1, 44 snd_wnd, 48 max_window, 52 rcv_wnd, 56 rcv_wup (32 each)
 *                            as TCP_REPAIR_WINDOW takes them
 *   60 srtt_us, 64 rttvar_us, 68 rto_us (32 each)   the RTT estimate
 *   72 bytes_sent (64)       octets the application wrote since the
 *                            connection began (the last one queued is the
 *                            bytes_sent-th), its FIN not counted
 *   80 bytes_received (64)   octets received since it began, in order,
 *                            the peer's FIN not counted
 *   88 local (128), 104 remote (128)   the addresses: G and the client
 *  120 local_port (16), 122 remote_port (16)
 *  124 snd_buf (32), 128 rcv_buf (32)   the socket's buffer sizes (SO_SNDBUF,
 *                            SO_RCVBUF as the kernel holds them), 0 if unknown
 *  132 reserved (32), zero
 */
#define GECKO_TCP_STATE_VERSION 1
#define GECKO_TCP_STATE_HDR_LEN 136

enum gecko_tcp_state_flag {
	GECKO_TCP_STATE_F_SACK = 1U << 0,
	GECKO_TCP_STATE_F_WSCALE = 1U << 1,
	GECKO_TCP_STATE_F_TIMESTAMPS = 1U << 2,
	GECKO_TCP_STATE_F_FIN_OUT = 1U << 3,	/* this side's FIN is queued or sent */
	GECKO_TCP_STATE_F_FIN_IN = 1U << 4,	/* the peer's FIN was received */
	GECKO_TCP_STATE_F_SNAPSHOT = 1U << 5,	/* the header alone: queues not included */
	__GECKO_TCP_STATE_F_ALL = (1U << 6) - 1
};

#endif /* _UAPI_LINUX_GECKO_H */
