/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_AGENT_TLS_H
#define GECKO_AGENT_TLS_H

/*
 * The node channel's security: TLS 1.3 (OpenSSL) between the agents of a
 * service, mutually authenticated, in one of two ways:
 *
 * - the cluster key, a secret every member holds (external PSK). Each
 *   side derives the connection's key from it and the client's identity,
 *   which is its care-of address in text; the server takes an identity
 *   only from that very address. A peer without the key completes no
 *   handshake. Key exchange is (EC)DHE on top, so a key that leaks later
 *   does not open recorded sessions.
 * - certificates: each node's own certificate and key, and the CA that
 *   signs the members'. A certificate must name its node's care-of
 *   address as an IP subjectAltName, checked against the address the
 *   connection really comes from (or goes to).
 *
 * Secret files (the cluster key, a certificate's private key) must belong
 * to root or to this process's user and be readable by their owner only.
 */

#include <gecko/agent.h>
#include <gecko/error.h>

#include <netinet/in.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>

namespace gecko::agent::tls {

/* 32 random octets in base64, the format of a cluster key file. */
Result<std::string> generate_key();

class Session;

/* The node's credentials, loaded once; every connection's session is made from them. */
class Context {
public:
	/*
	 * Fails when @security names no credentials, or when they cannot be
	 * used (saying why). @aes_instructions, for tests: whether to take
	 * this CPU for one with AES instructions (the default asks it).
	 */
	static Result<std::unique_ptr<Context>> load(const Security &security,
						     std::optional<bool> aes_instructions = std::nullopt);
	~Context();

	/* "cluster key" or "certificates", for the log. */
	const char *mode() const;

	/* The server's side on @fd, accepted from @peer. */
	Result<std::unique_ptr<Session>> accept(int fd, const in6_addr &peer);
	/* The client's side on @fd, connected (or connecting) from @self to @peer. */
	Result<std::unique_ptr<Session>> connect(int fd, const in6_addr &self, const in6_addr &peer);

	struct Impl;

private:
	explicit Context(std::unique_ptr<Impl> impl);
	std::unique_ptr<Impl> impl_;
};

/* One connection's TLS, over a nonblocking socket. */
class Session {
public:
	enum class Status {
		ok,
		want_read,	/* call again once the socket is readable */
		want_write,	/* ... writable */
		closed,		/* the peer ended the session */
		failed,		/* see why() */
	};

	~Session();

	/* Drives the handshake; ok once both sides are authenticated. */
	Status handshake();
	/* Up to @buf.size() decrypted octets: ok with @n > 0. */
	Status read(std::span<std::byte> buf, std::size_t &n);
	/* Some of @bytes: ok with @n > 0 of them taken. */
	Status write(std::span<const std::byte> bytes, std::size_t &n);
	/* Why the last call failed. */
	const std::string &why() const;
	/* The suite negotiated, once the handshake is done. */
	std::string suite() const;

	struct Impl;

private:
	friend class Context;
	explicit Session(std::unique_ptr<Impl> impl);
	std::unique_ptr<Impl> impl_;
};

} // namespace gecko::agent::tls

#endif /* GECKO_AGENT_TLS_H */
