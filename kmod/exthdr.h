/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The two IPv6 extension headers of route optimisation (RFC 6275 §6.3,
 * §6.4): finding and removing a type 2 routing header on the way in,
 * inserting a Home Address option on the way out, finding one in a packet
 * or in the packet an ICMPv6 error quotes. Pure skb surgery: the hooks
 * decide when.
 */

#ifndef _GECKO_EXTHDR_H
#define _GECKO_EXTHDR_H

#include <linux/in6.h>
#include <linux/types.h>

struct sk_buff;

/* Octets each header adds: both are 24 long. */
#define GECKO_RH2_LEN 24
#define GECKO_HAO_LEN 24

enum gecko_rh2_result {
	GECKO_RH2_ABSENT,	/* no routing header, or one of another type */
	GECKO_RH2_OK,
	GECKO_RH2_TRUNCATED,	/* a header runs past the end of the packet */
	GECKO_RH2_BAD_LENGTH,	/* Hdr Ext Len is not 2 */
	GECKO_RH2_BAD_SEGMENTS,	/* Segments Left is not 1 */
	GECKO_RH2_BAD_ADDRESS,	/* the home address is not unicast */
};

struct gecko_rh2 {
	unsigned int off;	/* of the routing header, from the network header */
	unsigned int nh_off;	/* of the Next Header field that names it */
	struct in6_addr home;	/* the address it carries */
};

enum gecko_rh2_result gecko_rh2_parse(const struct sk_buff *skb, struct gecko_rh2 *rh2);
int gecko_rh2_strip(struct sk_buff *skb, const struct gecko_rh2 *rh2);
int gecko_hao_insert(struct sk_buff *skb, const struct in6_addr *coa);

enum gecko_hao_result {
	GECKO_HAO_ABSENT,
	GECKO_HAO_OK,
	/* An options header cut short, an option running past the end of its
	 * header, or a Home Address option whose length is not 16.
	 */
	GECKO_HAO_MALFORMED,
};

struct gecko_hao {
	unsigned int off;	/* of the option's address, from the network header */
	struct in6_addr home;	/* that address */
};

enum gecko_hao_result gecko_hao_parse(const struct sk_buff *skb, unsigned int ip6_off,
				      struct gecko_hao *hao);

/* An ICMPv6 error about a packet that left with a Home Address option. */
struct gecko_icmp_err {
	unsigned int icmp_off;	/* of the ICMPv6 header, from the network header */
	struct gecko_hao hao;	/* the quoted packet's option */
};

bool gecko_icmp_err_parse(const struct sk_buff *skb, unsigned int icmp_off,
			  const struct in6_addr *coa, struct gecko_icmp_err *err);
int gecko_icmp_err_to_home(struct sk_buff *skb, const struct gecko_icmp_err *err);

/*
 * IPv6 in IPv6 (RFC 2473) for a packet a donor passes on: an outer header
 * from @src to @dst in front of the packet (not a GSO one: -EINVAL), whose
 * checksum left to the device (CHECKSUM_PARTIAL) is finished first; or
 * the outer header of a received packet removed (-EINVAL if what it
 * carries is no IPv6 packet that fits it).
 */
int gecko_ip6ip6_push(struct sk_buff *skb, const struct in6_addr *src, const struct in6_addr *dst);
int gecko_ip6ip6_strip(struct sk_buff *skb);

#endif /* _GECKO_EXTHDR_H */
