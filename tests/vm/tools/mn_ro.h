/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef GECKO_MN_RO_H
#define GECKO_MN_RO_H

#include <optional>

namespace gecko::mn {

/* gecko-mn's route-optimisation commands (hot, ro); nullopt if argv[1] names none of them. */
std::optional<int> run_ro(int argc, char **argv);

} // namespace gecko::mn

#endif /* GECKO_MN_RO_H */
