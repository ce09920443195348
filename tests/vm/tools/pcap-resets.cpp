// SPDX-License-Identifier: GPL-2.0-only
/*
 * Counts the TCP resets in a capture (tcpdump -w, Ethernet) that do not
 * come from a side that had sent its FIN: a reset after a FIN answers a
 * segment reordered past the close, which plain TCP does too. Walks IPv6
 * extension headers (a routing header or a Home Address option on every
 * route-optimised segment), so it reads what tcpdump's filters cannot.
 * A connection is named by its two ports: on the client's link its
 * segments carry the address of whichever node serves it.
 *
 * Prints the count, and one line per reset counted on stderr. Exits 2 on
 * a capture it cannot read. tshark takes minutes on a long download's
 * capture in the VM; this takes a second.
 *
 *   gecko-pcap-resets FILE
 */

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <utility>
#include <vector>

namespace {

constexpr std::uint32_t pcap_magic = 0xa1b2c3d4, pcap_magic_ns = 0xa1b23c4d;
constexpr std::uint32_t linktype_ethernet = 1;
constexpr std::uint16_t ethertype_ipv6 = 0x86dd;
constexpr std::uint8_t tcp_fin = 0x01, tcp_rst = 0x04;

std::uint16_t be16(const std::uint8_t *p)
{
	return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
}

std::uint32_t swap32(std::uint32_t v)
{
	return __builtin_bswap32(v);
}

/* The TCP header of an IPv6 packet @p of @len octets, or null. */
const std::uint8_t *tcp_header(const std::uint8_t *p, std::size_t len, std::size_t &tcp_len)
{
	if (len < 40 || p[0] >> 4 != 6)
		return nullptr;
	std::uint8_t next = p[6];
	std::size_t off = 40;
	for (;;) {
		switch (next) {
		case 6:
			if (len < off + 20)
				return nullptr;
			tcp_len = len - off;
			return p + off;
		case 0:		/* hop-by-hop options */
		case 43:	/* routing */
		case 60:	/* destination options */
			if (len < off + 8)
				return nullptr;
			next = p[off];
			off += (p[off + 1] + 1) * 8u;
			break;
		case 44:	/* fragment: only a first fragment carries the header */
			if (len < off + 8 || (be16(p + off + 2) & 0xfff8))
				return nullptr;
			next = p[off];
			off += 8;
			break;
		default:
			return nullptr;
		}
	}
}

} // namespace

int main(int argc, char **argv)
{
	if (argc != 2) {
		std::fprintf(stderr, "usage: gecko-pcap-resets FILE\n");
		return 2;
	}
	std::ifstream in(argv[1], std::ios::binary);
	std::uint32_t header[6];
	if (!in.read(reinterpret_cast<char *>(header), sizeof(header))) {
		std::fprintf(stderr, "gecko-pcap-resets: %s: not a capture\n", argv[1]);
		return 2;
	}
	bool swapped = header[0] == swap32(pcap_magic) || header[0] == swap32(pcap_magic_ns);
	auto host = [swapped](std::uint32_t v) { return swapped ? swap32(v) : v; };
	if (host(header[0]) != pcap_magic && host(header[0]) != pcap_magic_ns) {
		std::fprintf(stderr, "gecko-pcap-resets: %s: not a pcap capture\n", argv[1]);
		return 2;
	}
	if (host(header[5]) != linktype_ethernet) {
		std::fprintf(stderr, "gecko-pcap-resets: %s: link type %u, not Ethernet\n", argv[1], host(header[5]));
		return 2;
	}

	/* (source port, destination port) of every side that sent a FIN. */
	std::set<std::pair<std::uint16_t, std::uint16_t>> finished;
	std::vector<std::uint8_t> frame;
	unsigned long packets = 0, resets = 0;
	std::uint32_t record[4];
	while (in.read(reinterpret_cast<char *>(record), sizeof(record))) {
		std::uint32_t caplen = host(record[2]);
		if (caplen > (1u << 18)) {
			std::fprintf(stderr, "gecko-pcap-resets: %s: a record of %u octets\n", argv[1], caplen);
			return 2;
		}
		frame.resize(caplen);
		if (!in.read(reinterpret_cast<char *>(frame.data()), caplen)) {
			/* tcpdump killed mid-write leaves the last record short. */
			break;
		}
		packets++;
		if (caplen < 14 || be16(frame.data() + 12) != ethertype_ipv6)
			continue;
		std::size_t tcp_len = 0;
		const auto *tcp = tcp_header(frame.data() + 14, caplen - 14, tcp_len);
		if (!tcp || tcp_len < 14)
			continue;
		std::pair ports{be16(tcp), be16(tcp + 2)};
		if (tcp[13] & tcp_fin)
			finished.insert(ports);
		if ((tcp[13] & tcp_rst) && !finished.contains(ports)) {
			resets++;
			std::fprintf(stderr, "reset at %u.%06u s from port %u to port %u\n", host(record[0]),
				     host(record[1]), ports.first, ports.second);
		}
	}
	if (!packets) {
		std::fprintf(stderr, "gecko-pcap-resets: %s: no packet\n", argv[1]);
		return 2;
	}
	std::printf("%lu\n", resets);
	return 0;
}
