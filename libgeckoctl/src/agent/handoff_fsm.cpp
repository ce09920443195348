// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The two state machines of a handoff (agent/handoff.h): pure functions
 * of a phase and an event, so that every pair can be tested against the
 * rule of ownership written there.
 */

#include "agent/handoff.h"

namespace gecko::agent {

namespace donor {

Step step(Phase phase, Event event)
{
	const Step stay{phase, none};

	switch (phase) {
	case Phase::preparing:
		switch (event) {
		case Event::ready:
			return {Phase::freezing, freeze};
		case Event::refused:
		case Event::aborted:
		case Event::aborted_bu:
		case Event::peer_closed:
			/* Nothing left this node: the connections were never frozen. */
			return {Phase::stayed, none};
		case Event::done:	/* nonsense before the state: give up, it is ours */
		case Event::timeout:
		case Event::fault:
			return {Phase::stayed, send_abort};
		default:
			return stay;
		}
	case Phase::freezing:
		switch (event) {
		case Event::sent:
			return {Phase::committed, none};
		case Event::fault:
		case Event::timeout:
			/* Nothing was sent: thawing is still the donor's to do. */
			return {Phase::stayed, thaw | send_abort};
		default:
			return stay;
		}
	case Phase::committed:
	case Phase::resolving:
		switch (event) {
		case Event::restored:
			return {phase, pass_on};
		case Event::done:
			return {Phase::moved, drop | forward};
		case Event::aborted:
			return {Phase::stayed, thaw};
		case Event::aborted_bu:
			return {Phase::stayed, thaw | take_back};
		case Event::timeout:
			/* The acceptor may serve them: dropping is all the donor may do. */
			return phase == Phase::committed ? Step{Phase::resolving, send_query} : Step{Phase::lost, drop};
		case Event::peer_closed:
			return {Phase::resolving, phase == Phase::committed ? send_query : none};
		case Event::retry:
			return {phase, phase == Phase::resolving ? send_query : none};
		case Event::fault:
			return {Phase::lost, drop};
		default:
			return stay;
		}
	default:
		return stay;
	}
}

bool finished(Phase phase)
{
	return phase == Phase::stayed || phase == Phase::moved || phase == Phase::lost;
}

bool runs(Phase phase)
{
	return phase == Phase::preparing || phase == Phase::stayed;
}

bool committed(Phase phase)
{
	return phase == Phase::committed || phase == Phase::resolving;
}

const char *name(Phase phase)
{
	static const char *const names[] = {"preparing", "freezing", "committed", "resolving", "stayed", "moved", "lost"};
	return names[static_cast<int>(phase)];
}

const char *name(Event event)
{
	static const char *const names[] = {"ready",   "refused",  "restored", "sent",    "done",        "aborted",
					    "aborted-bu", "pending", "retry",  "timeout", "peer-closed", "fault"};
	return names[static_cast<int>(event)];
}

} // namespace donor

namespace acceptor {

Step step(Phase phase, Event event)
{
	const Step stay{phase, none};

	switch (phase) {
	case Phase::testing:
		switch (event) {
		case Event::tested:
			return {Phase::prepared, send_ready};
		case Event::test_failed:
		case Event::timeout:
		case Event::fault:
			return {Phase::aborted, send_refused};
		case Event::state_in:
		case Event::state_bad:	/* state before ready: refused, and nothing of it kept */
			return {Phase::aborted, drop | send_aborted};
		case Event::abort:
		case Event::peer_closed:
			return {Phase::aborted, none};
		default:
			return stay;
		}
	case Phase::prepared:
		switch (event) {
		case Event::state_in:
			return {Phase::updating, start_update | send_restored};
		case Event::state_bad:
		case Event::timeout:
		case Event::fault:
			return {Phase::aborted, drop | send_aborted};
		case Event::abort:
		case Event::peer_closed:
			/* Remembered as aborted: a donor that asks later hears it. */
			return {Phase::aborted, drop};
		default:
			return stay;
		}
	case Phase::updating:
		switch (event) {
		case Event::accepted:
			return {Phase::thawed, thaw | send_done};
		case Event::rejected:
			return {Phase::aborted, drop | send_aborted};
		case Event::timeout:
		case Event::fault:
			return {Phase::aborted, cancel_update | drop | send_aborted};
		default:
			/* The donor can no longer take it back, nor can a closed connection. */
			return stay;
		}
	default:
		return stay;
	}
}

bool finished(Phase phase)
{
	return phase == Phase::thawed || phase == Phase::aborted;
}

bool runs(Phase phase)
{
	return phase == Phase::thawed;
}

const char *name(Phase phase)
{
	static const char *const names[] = {"testing", "prepared", "updating", "thawed", "aborted"};
	return names[static_cast<int>(phase)];
}

const char *name(Event event)
{
	static const char *const names[] = {"tested", "test-failed", "state-in", "state-bad", "accepted",
					    "rejected", "abort", "timeout", "peer-closed", "fault"};
	return names[static_cast<int>(event)];
}

} // namespace acceptor

} // namespace gecko::agent
