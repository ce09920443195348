// SPDX-License-Identifier: LGPL-2.1-or-later

#include "wire.h"

#include "fail.h"

#include <arpa/inet.h>

#include <cerrno>
#include <cstring>

namespace gecko::agent::wire {

namespace {

void append_be(std::vector<std::byte> &out, std::uint64_t value, std::size_t size)
{
	for (std::size_t i = size; i-- > 0;)
		out.push_back(static_cast<std::byte>(value >> (8 * i)));
}

std::uint64_t read_be(std::span<const std::byte> in)
{
	std::uint64_t value = 0;

	for (auto b : in)
		value = value << 8 | static_cast<std::uint8_t>(b);
	return value;
}

std::vector<std::byte> be(std::uint64_t value, std::size_t size)
{
	std::vector<std::byte> out;

	append_be(out, value, size);
	return out;
}

} // namespace

Message &Message::put(Attr attr, std::span<const std::byte> bytes)
{
	attrs_[attr].assign(bytes.begin(), bytes.end());
	return *this;
}

Message &Message::put(Attr attr, const in6_addr &addr)
{
	return put(attr, std::as_bytes(std::span(addr.s6_addr)));
}

Message &Message::put(Attr attr, const std::string &text)
{
	return put(attr, std::as_bytes(std::span(text)));
}

Message &Message::put_u8(Attr attr, std::uint8_t value)
{
	return put(attr, be(value, 1));
}

Message &Message::put_u16(Attr attr, std::uint16_t value)
{
	return put(attr, be(value, 2));
}

Message &Message::put_u32(Attr attr, std::uint32_t value)
{
	return put(attr, be(value, 4));
}

Message &Message::put_u64(Attr attr, std::uint64_t value)
{
	return put(attr, be(value, 8));
}

Result<std::span<const std::byte>> Message::get(Attr attr, std::size_t size) const
{
	auto it = attrs_.find(attr);

	if (it == attrs_.end())
		return fail(EBADMSG, "attribute " + std::to_string(int(attr)) + " is missing");
	if (size && it->second.size() != size)
		return fail(EBADMSG, "attribute " + std::to_string(int(attr)) + " has " +
					     std::to_string(it->second.size()) + " octets, not " + std::to_string(size));
	return std::span<const std::byte>(it->second);
}

Result<in6_addr> Message::address(Attr attr) const
{
	auto bytes = get(attr, sizeof(in6_addr));
	if (!bytes)
		return std::unexpected(bytes.error());
	in6_addr addr;
	std::memcpy(&addr, bytes->data(), sizeof(addr));
	return addr;
}

Result<std::string> Message::text(Attr attr) const
{
	auto bytes = get(attr, 0);
	if (!bytes)
		return std::unexpected(bytes.error());
	return std::string(reinterpret_cast<const char *>(bytes->data()), bytes->size());
}

Result<std::uint64_t> Message::number(Attr attr, std::size_t size) const
{
	auto bytes = get(attr, size);
	if (!bytes)
		return std::unexpected(bytes.error());
	return read_be(*bytes);
}

Result<std::uint8_t> Message::u8(Attr attr) const
{
	return number(attr, 1);
}

Result<std::uint16_t> Message::u16(Attr attr) const
{
	return number(attr, 2);
}

Result<std::uint32_t> Message::u32(Attr attr) const
{
	return number(attr, 4);
}

Result<std::uint64_t> Message::u64(Attr attr) const
{
	return number(attr, 8);
}

std::vector<std::byte> Message::encode() const
{
	std::vector<std::byte> out;
	std::size_t length = 0;

	for (const auto &[attr, value] : attrs_)
		length += 4 + value.size();
	append_be(out, version, 2);
	append_be(out, static_cast<std::uint16_t>(type_), 2);
	append_be(out, length, 4);
	for (const auto &[attr, value] : attrs_) {
		append_be(out, static_cast<std::uint16_t>(attr), 2);
		append_be(out, value.size(), 2);
		out.insert(out.end(), value.begin(), value.end());
	}
	return out;
}

void Reader::feed(std::span<const std::byte> bytes)
{
	buf_.insert(buf_.end(), bytes.begin(), bytes.end());
}

Result<std::optional<Message>> Reader::next()
{
	std::span<const std::byte> buf(buf_);

	if (buf.size() < header_size)
		return std::nullopt;
	auto ver = read_be(buf.subspan(0, 2));
	auto type = read_be(buf.subspan(2, 2));
	auto length = read_be(buf.subspan(4, 4));
	if (ver != version)
		return fail(EPROTO, "peer speaks version " + std::to_string(ver) + ", not " + std::to_string(version));
	if (length > max_payload)
		return fail(EMSGSIZE, "a frame of " + std::to_string(length) + " octets");
	if (buf.size() < header_size + length)
		return std::nullopt;

	Message msg(static_cast<Type>(type));
	auto attrs = buf.subspan(header_size, length);
	while (!attrs.empty()) {
		if (attrs.size() < 4)
			return fail(EBADMSG, "a truncated attribute header");
		auto attr = static_cast<Attr>(read_be(attrs.subspan(0, 2)));
		auto size = read_be(attrs.subspan(2, 2));
		if (attrs.size() < 4 + size)
			return fail(EBADMSG, "attribute " + std::to_string(int(attr)) + " runs past its frame");
		msg.put(attr, attrs.subspan(4, size));
		attrs = attrs.subspan(4 + size);
	}
	buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(header_size + length));
	return msg;
}

} // namespace gecko::agent::wire
