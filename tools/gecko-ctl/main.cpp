// SPDX-License-Identifier: GPL-2.0-only

#include "cli.h"

#include <iostream>

int main(int argc, char *argv[])
{
	return gecko::ctl::run({argv + 1, argv + argc}, std::cout, std::cerr);
}
