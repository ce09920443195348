// SPDX-License-Identifier: LGPL-2.1-or-later

#include "bytes.h"
#include "extack.h"

#include <gtest/gtest.h>

#include <linux/genetlink.h>

#include <cerrno>
#include <optional>
#include <string>

namespace {

/* An NLMSG_ERROR laid out as the kernel's netlink_ack() does. */
struct ErrorMessage {
	int error = -EINVAL;
	std::uint16_t flags = 0;
	std::string_view request{};	/* payload of the failed request, echoed unless NLM_F_CAPPED */
	Bytes tlvs{};
	std::optional<std::uint32_t> echoed_len{};	/* lies about the request's length */
	std::size_t cut = 0;		/* bytes dropped from the end */

	Bytes build() const
	{
		nlmsgerr err{error, {}};
		Bytes body;
		Bytes msg;

		err.msg.nlmsg_len = echoed_len.value_or(NLMSG_HDRLEN + request.size());
		err.msg.nlmsg_type = GENL_ID_CTRL;
		err.msg.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
		append(body, &err, sizeof(err));
		if (!(flags & NLM_F_CAPPED))
			append(body, request.data(), request.size());
		append(body, tlvs);

		nlmsghdr nlh{static_cast<std::uint32_t>(NLMSG_HDRLEN + body.size()), NLMSG_ERROR, flags, 1, 0};
		append(msg, &nlh, sizeof(nlh));
		append(msg, body);
		msg.resize(msg.size() - cut);
		return msg;
	}
};

struct Case {
	const char *name;
	ErrorMessage message;
	int code;
	std::string text;
};

Bytes operator+(Bytes a, const Bytes &b)
{
	append(a, b);
	return a;
}

const Bytes reply_only = attr(NLMSGERR_ATTR_MSG, {"attribute is reply-only", 24});
/* A genetlink header, then an attribute: what a gecko request carries. */
constexpr std::string_view request{"\x01\x01\x00\x00\x08\x00\x02\x00\x78\x00\x00\x00", 12};
constexpr auto tlvs = NLM_F_ACK_TLVS;
constexpr auto capped = NLM_F_CAPPED;

const Case cases[] = {
	{"no_tlvs", {.error = -EPERM, .flags = capped}, EPERM, ""},
	{"capped_text", {.flags = capped | tlvs, .request = request, .tlvs = reply_only},
	 EINVAL, "attribute is reply-only"},
	{"uncapped_text_after_request", {.flags = tlvs, .request = request, .tlvs = reply_only},
	 EINVAL, "attribute is reply-only"},
	/* The echoed request is not TLVs, even if it looks like them. */
	{"uncapped_request_is_not_text",
	 {.flags = tlvs, .request = {reinterpret_cast<const char *>(reply_only.data()), reply_only.size()}},
	 EINVAL, ""},
	{"tlvs_without_flag", {.flags = capped, .tlvs = reply_only}, EINVAL, ""},
	{"text_without_nul", {.flags = capped | tlvs, .tlvs = attr(NLMSGERR_ATTR_MSG, "no nul")},
	 EINVAL, "no nul"},
	{"text_after_offset",
	 {.flags = capped | tlvs, .tlvs = attr(NLMSGERR_ATTR_OFFS, {"\x14\0\0\0", 4}) + reply_only},
	 EINVAL, "attribute is reply-only"},
	{"truncated_tlv", {.flags = capped | tlvs, .tlvs = attr(NLMSGERR_ATTR_MSG, "abc", 64)},
	 EINVAL, ""},
	{"echo_longer_than_message",
	 {.flags = tlvs, .request = request, .tlvs = reply_only, .echoed_len = 1000}, EINVAL, ""},
	{"echo_shorter_than_header",
	 {.flags = tlvs, .request = request, .tlvs = reply_only, .echoed_len = 4}, EINVAL, ""},
	{"shorter_than_nlmsg_len", {.flags = capped | tlvs, .tlvs = reply_only, .cut = 4},
	 EPROTO, "truncated netlink error message"},
	{"no_room_for_errno", {.cut = sizeof(nlmsgerr)}, EPROTO, "truncated netlink error message"},
};

class ParseNlmsgerr : public testing::TestWithParam<Case> {};

TEST_P(ParseNlmsgerr, GivesErrnoAndText)
{
	const Bytes msg = GetParam().message.build();

	gecko::Error error = gecko::netlink::parse_nlmsgerr(msg);

	EXPECT_EQ(error.code, GetParam().code);
	EXPECT_EQ(error.message, GetParam().text);
}

INSTANTIATE_TEST_SUITE_P(Cases, ParseNlmsgerr, testing::ValuesIn(cases),
			 [](const auto &info) { return info.param.name; });

/* An NLMSG_DONE laid out as the kernel's netlink_dump_done() does. */
struct DoneMessage {
	int error = 0;
	std::uint16_t flags = 0;
	Bytes tlvs{};
	std::size_t cut = 0;	/* bytes dropped from the end */

	Bytes build() const
	{
		nlmsghdr nlh{static_cast<std::uint32_t>(NLMSG_HDRLEN + sizeof(error) + tlvs.size()), NLMSG_DONE,
			     static_cast<std::uint16_t>(NLM_F_MULTI | flags), 1, 0};
		Bytes msg;

		append(msg, &nlh, sizeof(nlh));
		append(msg, &error, sizeof(error));
		append(msg, tlvs);
		msg.resize(msg.size() - cut);
		return msg;
	}
};

struct DoneCase {
	const char *name;
	DoneMessage message;
	std::optional<int> code;	/* none: the dump succeeded */
	std::string text;
};

const Bytes busy = attr(NLMSGERR_ATTR_MSG, {"table busy", 11});

const DoneCase done_cases[] = {
	{"success", {}, {}, ""},
	/* A warning may ride on a successful dump; it is no error. */
	{"success_with_text", {.flags = tlvs, .tlvs = busy}, {}, ""},
	{"error_without_text", {.error = -EBUSY}, EBUSY, ""},
	{"error_with_text", {.error = -EBUSY, .flags = tlvs, .tlvs = busy}, EBUSY, "table busy"},
	{"text_without_flag", {.error = -EBUSY, .tlvs = busy}, EBUSY, ""},
	{"truncated_tlv", {.error = -EBUSY, .flags = tlvs, .tlvs = attr(NLMSGERR_ATTR_MSG, "abc", 64)}, EBUSY, ""},
	{"shorter_than_nlmsg_len", {.error = -EBUSY, .flags = tlvs, .tlvs = busy, .cut = 4},
	 EPROTO, "truncated netlink dump end message"},
	{"no_room_for_errno", {.cut = sizeof(int)}, EPROTO, "truncated netlink dump end message"},
};

class ParseNlmsgDone : public testing::TestWithParam<DoneCase> {};

TEST_P(ParseNlmsgDone, GivesErrnoAndText)
{
	const Bytes msg = GetParam().message.build();

	auto error = gecko::netlink::parse_nlmsg_done(msg);

	ASSERT_EQ(error.has_value(), GetParam().code.has_value());
	if (error) {
		EXPECT_EQ(error->code, *GetParam().code);
		EXPECT_EQ(error->message, GetParam().text);
	}
}

INSTANTIATE_TEST_SUITE_P(Cases, ParseNlmsgDone, testing::ValuesIn(done_cases),
			 [](const auto &info) { return info.param.name; });

} // namespace
