// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * TLS 1.3 for the node channel (agent/tls.h), with OpenSSL: an external
 * PSK per client identity derived from the cluster key, or certificates
 * whose IP subjectAltName must be the peer's address.
 */

#include "agent/tls.h"

#include <gecko/address.h>

#include "fail.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <fcntl.h>
#if defined(__aarch64__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>

namespace gecko::agent::tls {

namespace {

constexpr std::size_t key_size = 32;
/* Secret files are a line or a PEM key: anything this long is something else. */
constexpr std::size_t max_secret_file = 64 * 1024;
/* The PSK session's suite: it names the hash both ends must share, SHA-256, which both suites below use. */
constexpr unsigned char psk_suite[] = {0x13, 0x01};
constexpr const char *psk_salt = "gecko node channel v1";
/*
 * AES-GCM where the CPU has AES and carry-less multiply instructions,
 * else ChaCha20-Poly1305: in software it is several times faster (and
 * takes constant time). The server follows a client that puts ChaCha20
 * first (SSL_OP_PRIORITIZE_CHACHA), so a member without them never pays
 * for AES on its side.
 */
constexpr const char *suites_aes = "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256";
constexpr const char *suites_chacha = "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256";

bool cpu_has_aes()
{
#if defined(__x86_64__) || defined(__i386__)
	return __builtin_cpu_supports("aes") && __builtin_cpu_supports("pclmul");
#elif defined(__aarch64__)
	return (getauxval(AT_HWCAP) & HWCAP_AES) && (getauxval(AT_HWCAP) & HWCAP_PMULL);
#else
	return false;
#endif
}

using Key = std::array<unsigned char, key_size>;

struct SslCtxFree {
	void operator()(SSL_CTX *ctx) const { SSL_CTX_free(ctx); }
};
struct SslFree {
	void operator()(SSL *ssl) const { SSL_free(ssl); }
};
struct PkeyCtxFree {
	void operator()(EVP_PKEY_CTX *ctx) const { EVP_PKEY_CTX_free(ctx); }
};
struct SessionFree {
	void operator()(SSL_SESSION *s) const { SSL_SESSION_free(s); }
};

/* The first error OpenSSL queued, and the queue emptied. */
std::string openssl_error()
{
	char buf[256] = "unknown TLS error";
	unsigned long first = ERR_get_error();

	if (first)
		ERR_error_string_n(first, buf, sizeof(buf));
	ERR_clear_error();
	return buf;
}

/*
 * The contents of the secret file @path, refused unless root or this
 * process's user owns it and nobody else may read or change it.
 */
Result<std::string> read_secret(const std::string &path, const char *what)
{
	int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat st;

	if (fd < 0)
		return sys_fail(errno, path + ": cannot open the " + what);
	std::string contents;
	auto close_fd = [&] { ::close(fd); };
	if (fstat(fd, &st) < 0) {
		close_fd();
		return sys_fail(errno, path);
	}
	if (!S_ISREG(st.st_mode)) {
		close_fd();
		return fail(EINVAL, path + ": the " + what + " must be a regular file");
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		close_fd();
		return fail(EPERM, path + ": the " + what + " must belong to root or to this user (uid " +
					   std::to_string(geteuid()) + "), not to uid " + std::to_string(st.st_uid));
	}
	if (st.st_mode & 077) {
		char mode[8];
		std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
		close_fd();
		return fail(EPERM, path + ": the " + what + " must be readable by its owner only (mode 0600), not " +
					   mode + ": chmod 600 " + path);
	}
	if (st.st_size > static_cast<off_t>(max_secret_file)) {
		close_fd();
		return fail(EFBIG, path + ": too large for a " + std::string(what));
	}
	contents.resize(static_cast<std::size_t>(st.st_size));
	std::size_t got = 0;
	while (got < contents.size()) {
		auto n = ::read(fd, contents.data() + got, contents.size() - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += static_cast<std::size_t>(n);
	}
	close_fd();
	contents.resize(got);
	return contents;
}

Result<Key> parse_key(std::string text, const std::string &path)
{
	auto bad = [&] {
		OPENSSL_cleanse(text.data(), text.size());
		return fail(EINVAL, path + ": not a cluster key (32 octets in base64, as gecko-ctl genkey prints)");
	};
	while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
		text.pop_back();
	/* 32 octets are 44 base64 characters, the last one padding. */
	if (text.size() != 44 || text.back() != '=' || text[42] == '=')
		return bad();
	unsigned char out[33];
	int n = EVP_DecodeBlock(out, reinterpret_cast<const unsigned char *>(text.data()), static_cast<int>(text.size()));
	OPENSSL_cleanse(text.data(), text.size());
	if (n != 33) {
		OPENSSL_cleanse(out, sizeof(out));
		return bad();
	}
	Key key;
	std::memcpy(key.data(), out, key.size());
	OPENSSL_cleanse(out, sizeof(out));
	return key;
}

/* The PSK of the client whose identity is @identity: HKDF-SHA256 of the cluster key. */
bool derive(const Key &cluster, const std::string &identity, Key &out)
{
	std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr));
	std::size_t len = out.size();
	std::string info = "gecko node " + identity;

	return ctx && EVP_PKEY_derive_init(ctx.get()) == 1 && EVP_PKEY_CTX_set_hkdf_md(ctx.get(), EVP_sha256()) == 1 &&
	       EVP_PKEY_CTX_set1_hkdf_salt(ctx.get(), reinterpret_cast<const unsigned char *>(psk_salt),
					   static_cast<int>(std::strlen(psk_salt))) == 1 &&
	       EVP_PKEY_CTX_set1_hkdf_key(ctx.get(), cluster.data(), static_cast<int>(cluster.size())) == 1 &&
	       EVP_PKEY_CTX_add1_hkdf_info(ctx.get(), reinterpret_cast<const unsigned char *>(info.data()),
					   static_cast<int>(info.size())) == 1 &&
	       EVP_PKEY_derive(ctx.get(), out.data(), &len) == 1 && len == out.size();
}

} // namespace

Result<std::string> generate_key()
{
	Key key;
	unsigned char text[4 * ((key_size + 2) / 3) + 1];

	if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1)
		return fail(EIO, "no randomness for a key");
	EVP_EncodeBlock(text, key.data(), static_cast<int>(key.size()));
	std::string out(reinterpret_cast<char *>(text));
	OPENSSL_cleanse(key.data(), key.size());
	OPENSSL_cleanse(text, sizeof(text));
	return out;
}

struct Context::Impl {
	std::unique_ptr<SSL_CTX, SslCtxFree> server, client;
	bool psk = false;
	Key cluster{};

	~Impl() { OPENSSL_cleanse(cluster.data(), cluster.size()); }
};

struct Session::Impl {
	std::unique_ptr<SSL, SslFree> ssl;
	const Context::Impl *ctx = nullptr;
	in6_addr peer{};
	std::string identity;	/* the client's: its care-of address in text */
	std::string why;
	bool established = false;

	Status status(int ret);
};

namespace {

int app_index()
{
	static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
	return index;
}

Session::Impl *session_of(SSL *ssl)
{
	return static_cast<Session::Impl *>(SSL_get_ex_data(ssl, app_index()));
}

/* A resumable-looking session that only carries the PSK for @identity. */
SSL_SESSION *psk_session(SSL *ssl, const Key &cluster, const std::string &identity)
{
	const SSL_CIPHER *cipher = SSL_CIPHER_find(ssl, psk_suite);
	std::unique_ptr<SSL_SESSION, SessionFree> s(SSL_SESSION_new());
	Key psk;

	if (!cipher || !s || !derive(cluster, identity, psk))
		return nullptr;
	bool ok = SSL_SESSION_set1_master_key(s.get(), psk.data(), psk.size()) == 1 &&
		  SSL_SESSION_set_cipher(s.get(), cipher) == 1 &&
		  SSL_SESSION_set_protocol_version(s.get(), TLS1_3_VERSION) == 1;
	OPENSSL_cleanse(psk.data(), psk.size());
	return ok ? s.release() : nullptr;
}

int use_psk(SSL *ssl, const EVP_MD *md, const unsigned char **id, std::size_t *idlen, SSL_SESSION **sess)
{
	auto *s = session_of(ssl);

	*sess = nullptr;
	/* After a HelloRetryRequest the hash is fixed: ours is SHA-256. */
	if (!s || (md && md != EVP_sha256()))
		return 1;
	*sess = psk_session(ssl, s->ctx->cluster, s->identity);
	if (!*sess)
		return 0;
	*id = reinterpret_cast<const unsigned char *>(s->identity.data());
	*idlen = s->identity.size();
	return 1;
}

int find_psk(SSL *ssl, const unsigned char *identity, std::size_t len, SSL_SESSION **sess)
{
	auto *s = session_of(ssl);
	std::string name(reinterpret_cast<const char *>(identity), std::min<std::size_t>(len, INET6_ADDRSTRLEN));

	*sess = nullptr;
	if (!s)
		return 0;
	/* The identity is the address the client's connection comes from, or nothing is found. */
	auto addr = parse_address(name);
	if (len > INET6_ADDRSTRLEN || !addr || std::memcmp(&*addr, &s->peer, sizeof(s->peer))) {
		s->why = "identity \"" + name + "\" does not match the address " + format_address(s->peer);
		return 1;
	}
	*sess = psk_session(ssl, s->ctx->cluster, name);
	return *sess ? 1 : 0;
}

std::unique_ptr<SSL_CTX, SslCtxFree> new_ctx(bool server, bool aes)
{
	std::unique_ptr<SSL_CTX, SslCtxFree> ctx(SSL_CTX_new(server ? TLS_server_method() : TLS_client_method()));

	if (!ctx)
		return ctx;
	SSL_CTX_set_min_proto_version(ctx.get(), TLS1_3_VERSION);
	SSL_CTX_set_max_proto_version(ctx.get(), TLS1_3_VERSION);
	/* No tickets: a session is the connection, nothing to resume. */
	SSL_CTX_set_options(ctx.get(), SSL_OP_NO_TICKET | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_PRIORITIZE_CHACHA);
	SSL_CTX_set_num_tickets(ctx.get(), 0);
	if (SSL_CTX_set_ciphersuites(ctx.get(), aes ? suites_aes : suites_chacha) != 1)
		ctx.reset();
	SSL_CTX_set_mode(ctx.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	return ctx;
}

Result<void> use_certificates(SSL_CTX *ctx, const Security &security)
{
	if (SSL_CTX_use_certificate_chain_file(ctx, security.cert_file.c_str()) != 1)
		return fail(EINVAL, security.cert_file + ": cannot use the certificate: " + openssl_error());
	/* Checked like the cluster key before OpenSSL reads it. */
	auto pem = read_secret(security.cert_key_file, "certificate's private key");
	if (!pem)
		return std::unexpected(pem.error());
	std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())),
						       BIO_free);
	EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr;
	OPENSSL_cleanse(pem->data(), pem->size());
	if (!key)
		return fail(EINVAL, security.cert_key_file + ": not a private key: " + openssl_error());
	int used = SSL_CTX_use_PrivateKey(ctx, key);
	EVP_PKEY_free(key);
	if (used != 1 || SSL_CTX_check_private_key(ctx) != 1)
		return fail(EINVAL, security.cert_key_file + ": does not go with " + security.cert_file + ": " +
					    openssl_error());
	if (SSL_CTX_load_verify_locations(ctx, security.ca_file.c_str(), nullptr) != 1)
		return fail(EINVAL, security.ca_file + ": cannot use the CA: " + openssl_error());
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
	return {};
}

} // namespace

Context::Context(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Context::~Context() = default;

Result<std::unique_ptr<Context>> Context::load(const Security &security, std::optional<bool> aes_instructions)
{
	bool certs = !security.cert_file.empty() || !security.cert_key_file.empty() || !security.ca_file.empty();

	if (security.key_file.empty() && !certs)
		return fail(ENOKEY, "no cluster key nor certificates: the node channel is off");
	if (!security.key_file.empty() && certs)
		return fail(EINVAL, "a cluster key or certificates, not both");
	if (certs && (security.cert_file.empty() || security.cert_key_file.empty() || security.ca_file.empty()))
		return fail(EINVAL, "certificates need all three: the certificate, its private key and the CA");

	auto impl = std::make_unique<Impl>();
	bool aes = aes_instructions.value_or(cpu_has_aes());
	impl->server = new_ctx(true, aes);
	impl->client = new_ctx(false, aes);
	if (!impl->server || !impl->client)
		return fail(ENOMEM, "cannot make a TLS context: " + openssl_error());
	if (!certs) {
		auto text = read_secret(security.key_file, "cluster key");
		if (!text)
			return std::unexpected(text.error());
		auto key = parse_key(std::move(*text), security.key_file);
		if (!key)
			return std::unexpected(key.error());
		impl->cluster = *key;
		OPENSSL_cleanse(key->data(), key->size());
		impl->psk = true;
		SSL_CTX_set_psk_find_session_callback(impl->server.get(), find_psk);
		SSL_CTX_set_psk_use_session_callback(impl->client.get(), use_psk);
	} else {
		for (auto *ctx : {impl->server.get(), impl->client.get()})
			if (auto ok = use_certificates(ctx, security); !ok)
				return std::unexpected(ok.error());
	}
	return std::unique_ptr<Context>(new Context(std::move(impl)));
}

const char *Context::mode() const
{
	return impl_->psk ? "cluster key" : "certificates";
}

namespace {

Result<std::unique_ptr<Session::Impl>> new_session(const Context::Impl &ctx, SSL_CTX *ssl_ctx, int fd,
						    const in6_addr &peer)
{
	auto s = std::make_unique<Session::Impl>();
	s->ssl.reset(SSL_new(ssl_ctx));
	s->ctx = &ctx;
	s->peer = peer;
	if (!s->ssl || SSL_set_fd(s->ssl.get(), fd) != 1 || SSL_set_ex_data(s->ssl.get(), app_index(), s.get()) != 1)
		return fail(ENOMEM, "cannot make a TLS session: " + openssl_error());
	/* The peer's certificate must name the address we see it at. */
	if (!ctx.psk && X509_VERIFY_PARAM_set1_ip(SSL_get0_param(s->ssl.get()), peer.s6_addr, sizeof(peer.s6_addr)) != 1)
		return fail(ENOMEM, "TLS: " + openssl_error());
	return s;
}

} // namespace

Result<std::unique_ptr<Session>> Context::accept(int fd, const in6_addr &peer)
{
	auto s = new_session(*impl_, impl_->server.get(), fd, peer);
	if (!s)
		return std::unexpected(s.error());
	SSL_set_accept_state((*s)->ssl.get());
	return std::unique_ptr<Session>(new Session(std::move(*s)));
}

Result<std::unique_ptr<Session>> Context::connect(int fd, const in6_addr &self, const in6_addr &peer)
{
	auto s = new_session(*impl_, impl_->client.get(), fd, peer);
	if (!s)
		return std::unexpected(s.error());
	(*s)->identity = format_address(self);
	SSL_set_connect_state((*s)->ssl.get());
	return std::unique_ptr<Session>(new Session(std::move(*s)));
}

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Session::~Session() = default;

Session::Status Session::Impl::status(int ret)
{
	switch (SSL_get_error(ssl.get(), ret)) {
	case SSL_ERROR_WANT_READ:
		return Status::want_read;
	case SSL_ERROR_WANT_WRITE:
		return Status::want_write;
	case SSL_ERROR_ZERO_RETURN:
		return Status::closed;
	case SSL_ERROR_SYSCALL:
		if (!ERR_peek_error()) {
			why = errno ? std::strerror(errno) : "the peer closed the connection";
			return established && !errno ? Status::closed : Status::failed;
		}
		[[fallthrough]];
	default: {
		auto error = openssl_error();
		/* Our own reason (a PSK identity refused) explains OpenSSL's. */
		why = why.empty() ? error : why + " (" + error + ")";
		return Status::failed;
	}
	}
}

Session::Status Session::handshake()
{
	auto &s = *impl_;

	errno = 0;
	int ret = SSL_do_handshake(s.ssl.get());
	if (ret == 1) {
		s.established = true;
		return Status::ok;
	}
	auto st = s.status(ret);
	return st == Status::closed ? Status::failed : st;
}

Session::Status Session::read(std::span<std::byte> buf, std::size_t &n)
{
	n = 0;
	errno = 0;
	if (SSL_read_ex(impl_->ssl.get(), buf.data(), buf.size(), &n) == 1)
		return Status::ok;
	return impl_->status(0);
}

Session::Status Session::write(std::span<const std::byte> bytes, std::size_t &n)
{
	n = 0;
	errno = 0;
	if (SSL_write_ex(impl_->ssl.get(), bytes.data(), bytes.size(), &n) == 1)
		return Status::ok;
	return impl_->status(0);
}

const std::string &Session::why() const
{
	return impl_->why;
}

std::string Session::suite() const
{
	const SSL_CIPHER *cipher = SSL_get_current_cipher(impl_->ssl.get());
	return cipher ? SSL_CIPHER_get_name(cipher) : "";
}

} // namespace gecko::agent::tls
