/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_CLIENT_H
#define GECKO_CLIENT_H

#include <gecko/error.h>
#include <gecko/export.h>
#include <gecko/flow.h>
#include <gecko/info.h>
#include <gecko/limits.h>
#include <gecko/service.h>
#include <gecko/tcp_state.h>

#include <netinet/in.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

namespace gecko {

/*
 * A connection to gecko.ko's generic netlink family. Requests act on the
 * network namespace the client was opened in. A moved-from Client may
 * only be destroyed or assigned to.
 */
class GECKO_API Client {
public:
	/* Fails with ENOENT when the module is not loaded. */
	static Result<Client> open();

	/* GECKO_CMD_GET_INFO. */
	Result<Info> get_info();

	/* GECKO_CMD_SERVICE_SET: creates the service, or replaces all but its bindings. */
	Result<void> set_service(const Service &svc);
	/* GECKO_CMD_SERVICE_DEL: drops its bindings too; ENOENT if there is none. */
	Result<void> del_service(const in6_addr &home);
	/* GECKO_CMD_SERVICE_GET: ENOENT if there is none. */
	Result<Service> service(const in6_addr &home);
	/* Every service, in the order they were created. */
	Result<std::vector<Service>> services();

	/* GECKO_CMD_BINDING_SET: creates the binding or replaces it; its service must exist. */
	Result<void> set_binding(const Binding &binding);
	/*
	 * GECKO_CMD_BINDING_SET for each of @bindings, up to 64 in one system
	 * call rather than a round trip each: a table of 10^5 filled at once.
	 * Every one is tried; if the module refused some, fails with the
	 * first refusal's error, its message saying, for more than one
	 * binding, which and how many were refused (the others are set).
	 */
	Result<void> set_bindings(std::span<const Binding> bindings);
	/* GECKO_CMD_BINDING_DEL: ENOENT if there is none. */
	Result<void> del_binding(const in6_addr &home, const in6_addr &peer);
	/* GECKO_CMD_BINDING_GET: ENOENT if there is none. */
	Result<Binding> binding(const in6_addr &home, const in6_addr &peer);
	/*
	 * Every live binding, or those of the service for @home, in no
	 * particular order. If bindings keep changing while they are read,
	 * fails with EINTR rather than give a list with some lost or repeated.
	 */
	Result<std::vector<Binding>> bindings(std::optional<in6_addr> home = {});

	/*
	 * The socket commands (GECKO_FEATURE_SOCKETS) move a connection of G
	 * from a donor to an acceptor: the donor freezes and captures it, the
	 * acceptor restores it into a fresh socket and resumes it, then the
	 * donor drops its own. @fd is a socket of the calling process. A
	 * @timeout (100 ms to 10 min) replaces the module's default, after
	 * which it thaws a frozen socket or drops a committed or restored one
	 * itself.
	 */

	/* GECKO_CMD_SOCK_FREEZE: an established (or half-closed) connection, for capture. */
	Result<void> freeze_socket(int fd, std::optional<std::chrono::milliseconds> timeout = {});
	/* GECKO_CMD_SOCK_CAPTURE: the whole state of a frozen socket, header and queues. */
	Result<std::vector<std::byte>> capture_socket(int fd);
	/*
	 * GECKO_CMD_SOCK_CAPTURE of any established connection of G: its
	 * header alone, undisturbed (parse_tcp_state() reads it); what a
	 * recovery restores.
	 */
	Result<std::vector<std::byte>> snapshot_socket(const in6_addr &local, std::uint16_t local_port,
						       const in6_addr &remote, std::uint16_t remote_port);
	/*
	 * GECKO_CMD_SOCK_COMMIT (GECKO_FEATURE_OWNERSHIP): the state of the
	 * frozen socket @fd left for an acceptor. From now on the module never
	 * thaws it by itself: it drops it silently @timeout from now, unless
	 * thaw_socket() (the acceptor gave the connection up) or drop_socket()
	 * comes first. Again on a committed socket, sets its new deadline.
	 * With @forward (GECKO_FEATURE_PASS_ON), the care-of address of the
	 * acceptor that restored it: a copy of what the socket holds, and of
	 * what comes for it from now on, goes there; the packets stay held
	 * for a thaw, and drop_socket() (to the same acceptor) does not send
	 * them again.
	 */
	Result<void> commit_socket(int fd, std::chrono::milliseconds timeout, std::optional<in6_addr> forward = {});
	/*
	 * GECKO_CMD_SOCK_RESTORE: makes @fd, a fresh IPv6 TCP socket, into the
	 * connection whose state's @header (its first hdr_len octets, nothing
	 * more) this is, frozen, its queues to come with restore_socket_data().
	 * With @donor (GECKO_FEATURE_OWNERSHIP), the donor's care-of address:
	 * the packets of this connection it passes on are taken, until
	 * GECKO_SOCK_MOVED_TIMEOUT after the thaw; nobody else's ever are.
	 */
	Result<void> restore_socket_begin(int fd, std::span<const std::byte> header,
					  std::optional<std::chrono::milliseconds> timeout = {},
					  std::optional<in6_addr> donor = {});
	/*
	 * GECKO_CMD_SOCK_RESTORE_DATA: the next @octets of the state after its
	 * header (receive queue, then send queue), any length: sent in pieces
	 * of at most GECKO_SOCK_DATA_MAX. With the last one the socket is
	 * restored, still frozen. A failure leaves it unusable: drop it.
	 */
	Result<void> restore_socket_data(int fd, std::span<const std::byte> octets);
	/*
	 * Both of the above for a whole @state, as capture_socket() gave it.
	 * A failure after the header leaves it half restored until
	 * drop_socket() or the timeout. A snapshot (snapshot_socket()) is a
	 * recovery: the connection, probed until its client answered
	 * (probe_socket()), is restored at once where the answer says the
	 * client stands, nothing queued (GECKO_CMD_SOCK_PROBE, "Recovery").
	 */
	Result<void> restore_socket(int fd, std::span<const std::byte> state,
				    std::optional<std::chrono::milliseconds> timeout = {},
				    std::optional<in6_addr> donor = {});
	/*
	 * GECKO_CMD_SOCK_THAW: the connection runs again. A restored one gets
	 * the part of the send queue never sent, and the FIN if one was
	 * queued, before anything its owner writes.
	 */
	Result<void> thaw_socket(int fd);
	/*
	 * GECKO_CMD_SOCK_DROP: closes the connection here without a word to
	 * the peer; what still arrives for it goes to the acceptor's care-of
	 * address @forward, if given, else is dropped.
	 */
	Result<void> drop_socket(int fd, std::optional<in6_addr> forward = {});
	/*
	 * GECKO_CMD_SOCK_PROBE (GECKO_FEATURE_PROBE): sends the peer of a
	 * connection of G that this node has no socket for an empty ACK with
	 * @seg's numbers (out of the peer's window, so that its stack answers
	 * with its own); the connection's flow is probing for @timeout, and
	 * flows() shows the last answer. Without @seg nothing is sent: the
	 * flow only becomes probing, what the peer sends it here taken by the
	 * module. EBUSY if the connection runs here.
	 */
	Result<void> probe_socket(const in6_addr &local, std::uint16_t local_port, const in6_addr &remote,
				  std::uint16_t remote_port, const std::optional<ProbeSegment> &seg,
				  std::optional<std::chrono::milliseconds> timeout = {});
	/*
	 * GECKO_CMD_SOCK_GUARD (GECKO_FEATURE_GUARD): if the process dies
	 * while the established connection @fd is open, the module ends it
	 * without a word (no FIN, no reset) for its backup to take it over;
	 * closed by a running process, it closes as usual.
	 */
	Result<void> guard_socket(int fd);
	/* GECKO_CMD_SOCK_GET: every flow the module holds, in no particular order. */
	Result<std::vector<Flow>> flows();

	/* GECKO_CMD_LIMITS_GET (GECKO_FEATURE_LIMITS): every limit, and what is in use. */
	Result<Limits> limits();
	/*
	 * GECKO_CMD_LIMITS_SET: the limits set in @limits, the others kept;
	 * EINVAL if none is set, ERANGE past a limit's highest value.
	 */
	Result<void> set_limits(const Limits &limits);

	Client(Client &&) noexcept;
	Client &operator=(Client &&) noexcept;
	~Client();

private:
	struct Impl;	/* keeps libnl out of this header */

	explicit Client(std::unique_ptr<Impl> impl);

	std::unique_ptr<Impl> impl_;
};

} // namespace gecko

#endif /* GECKO_CLIENT_H */
