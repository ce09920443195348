/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_TEST_MESSAGE_H
#define GECKO_TEST_MESSAGE_H

/*
 * gecko messages built with libnl, for the codec tests: requests to look
 * into, replies to decode.
 */

#include "bytes.h"
#include "netlink.h"

#include <gecko/address.h>

#include <gtest/gtest.h>

#include <linux/gecko.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <utility>
#include <vector>

inline in6_addr addr(const char *text)
{
	return *gecko::parse_address(text);
}

template <class T>
Bytes bytes_of(const T &value)
{
	const auto *p = reinterpret_cast<const std::byte *>(&value);

	return {p, p + sizeof(value)};
}

/* A generic netlink message of @cmd, built with libnl. */
class Message {
public:
	explicit Message(std::uint8_t cmd) : msg_(nlmsg_alloc())
	{
		genlmsg_put(msg_.get(), NL_AUTO_PORT, NL_AUTO_SEQ, GENL_MIN_ID, 0, 0, cmd, GECKO_GENL_VERSION);
	}

	/* A copy of the first request in @requests (a netlink::Requests' octets). */
	explicit Message(std::span<const std::byte> requests)
		: msg_(nlmsg_convert(reinterpret_cast<nlmsghdr *>(const_cast<std::byte *>(requests.data()))))
	{
	}

	nl_msg *get() { return msg_.get(); }
	std::span<const std::byte> attrs() { return *gecko::netlink::attributes(msg_.get()); }

	/* The attributes in the nest @type, by type; null where absent. */
	std::vector<nlattr *> nested(int type, int maxtype)
	{
		std::vector<nlattr *> tb(maxtype + 1);
		nlattr *nest = nlmsg_find_attr(nlmsg_hdr(get()), GENL_HDRLEN, type);

		if (!nest) {
			ADD_FAILURE() << "no nest " << type;
			return tb;
		}
		EXPECT_EQ(nla_parse_nested(tb.data(), maxtype, nest, nullptr), 0);
		return tb;
	}

private:
	gecko::netlink::MessagePtr msg_;
};

/* Attribute @nla holds exactly @value. */
template <class T>
void expect_attr(const nlattr *nla, const T &value, const char *what)
{
	ASSERT_NE(nla, nullptr) << what;
	ASSERT_EQ(static_cast<std::size_t>(nla_len(nla)), sizeof(T)) << what;
	EXPECT_EQ(std::memcmp(nla_data(nla), &value, sizeof(T)), 0) << what;
}

/* The attributes of a nest, in order, as a reply carries them. */
using Fields = std::vector<std::pair<int, Bytes>>;

/* A reply of @cmd with @fields in the nest @type, then @stray bytes in it. */
inline Message reply(std::uint8_t cmd, int type, const Fields &fields, const Bytes &stray = {})
{
	Message msg(cmd);
	nlattr *nest = nla_nest_start(msg.get(), type);

	for (const auto &[field, payload] : fields)
		nla_put(msg.get(), field, static_cast<int>(payload.size()), payload.data());
	if (!stray.empty())
		nlmsg_append(msg.get(), const_cast<std::byte *>(stray.data()), stray.size(), NLMSG_ALIGNTO);
	nla_nest_end(msg.get(), nest);
	return msg;
}

/* @fields with @type left out, or carrying @payload instead. */
inline Fields change(Fields fields, int type, const std::optional<Bytes> &payload)
{
	auto it = std::ranges::find(fields, type, &std::pair<int, Bytes>::first);

	if (!payload)
		fields.erase(it);
	else if (it == fields.end())
		fields.emplace_back(type, *payload);
	else
		it->second = *payload;
	return fields;
}

/* One field changed (or left out, without a payload) and the complaint. */
struct Malformed {
	const char *name;
	int type;
	std::optional<Bytes> payload;
	std::string why;
};

#endif /* GECKO_TEST_MESSAGE_H */
