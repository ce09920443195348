// SPDX-License-Identifier: LGPL-2.1-or-later

#include <gecko/error.h>

#include <gtest/gtest.h>

#include <cerrno>

TEST(ErrorDescribe, PrefersTheKernelMessage)
{
	gecko::Error error{EINVAL, "attribute is reply-only"};

	EXPECT_EQ(error.describe(), "attribute is reply-only");
}

TEST(ErrorDescribe, FallsBackToTheErrnoText)
{
	gecko::Error error{ENOENT, ""};

	EXPECT_EQ(error.describe(), "No such file or directory");
}
